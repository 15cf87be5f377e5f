/**
 * The one JSON shape of a failed command, printed on stdout under `--json` whatever the command
 * and the failure (bad flag, invalid fleet, guard refusal, cloud error), with the same exit code
 * as the text form: `{"error":{"operation","resource","message"[,"diagnostics"]}}`. The text
 * form still goes to stderr, for the person reading a CI log.
 */
import type { Diagnostic } from '../desired/diagnostics.js';

export interface ErrorReport {
  error: {
    /** What tenantform was doing ("read command line", "apply", "load fleet"…). */
    operation: string;
    /** What it was doing it to; null when nothing in particular. */
    resource: string | null;
    /** The whole sentence, as the text form prints it. */
    message: string;
    /** Exit code the command returned. */
    exitCode: number;
    /** For an invalid fleet or wiring: every problem found, as `validate --json` lists them. */
    diagnostics?: Diagnostic[];
    /** True when the failure is a bug in tenantform (an internal error), not the user's to fix. */
    bug?: true;
    /** The run the failure escaped from (apply), when there was one: its audit row has the rest. */
    runId?: string;
    /** Only with TENANTFORM_DEBUG=1, for a bug: the stack and its causes'. */
    stack?: string;
  };
}

export function renderErrorJson(e: ErrorReport['error']): string {
  const error: ErrorReport['error'] = {
    operation: e.operation,
    resource: e.resource,
    message: e.message,
    exitCode: e.exitCode,
    ...(e.diagnostics ? { diagnostics: e.diagnostics } : {}),
    ...(e.bug ? { bug: e.bug } : {}),
    ...(e.runId ? { runId: e.runId } : {}),
    ...(e.stack ? { stack: e.stack } : {}),
  };
  return `${JSON.stringify({ error }, null, 2)}\n`;
}

/** True when the command line asks for JSON (`--json` before a `--` that ends the options). */
export function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}

/** The error form of an invalid fleet or wiring (plan and apply; validate's report is its output). */
export function renderInvalidInputJson(diagnostics: Diagnostic[], repo: string): string {
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  return renderErrorJson({
    operation: 'load fleet',
    resource: repo,
    message: `load fleet ${repo}: the fleet or its wiring is not valid: ${errors} error${errors === 1 ? '' : 's'}`,
    exitCode: 1,
    diagnostics,
  });
}
