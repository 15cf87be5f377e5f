/**
 * How every command reports an invalid fleet or wiring (exit 1): the diagnostics as text on
 * stderr, and with --json also as the JSON error object on stdout.
 */
import type { Diagnostic } from '../desired/diagnostics.js';
import { buildReport, renderText as renderDiagnosticsText } from '../render/diagnostics.js';
import { renderInvalidInputJson } from '../render/error-json.js';
import type { Io } from './io.js';

export function printInvalidInput(out: Pick<Io, 'stdout' | 'stderr' | 'color'>, diagnostics: Diagnostic[], opts: { json?: boolean | undefined; dir: string }): void {
  const report = buildReport(diagnostics, undefined);
  if (opts.json) out.stdout(renderInvalidInputJson(report.diagnostics, opts.dir));
  out.stderr(renderDiagnosticsText(report, out.color));
}
