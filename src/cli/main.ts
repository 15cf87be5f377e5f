import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { ExitCode, InternalError, isBug, runIdOf, TenantformError } from '../errors.js';
import type { CommandModule } from './command.js';
import { processIo, type Io } from './io.js';
import { loadCommands } from './commands.js';
import { redactWriters } from '../redact.js';
import { renderErrorJson, wantsJson } from '../render/error-json.js';

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function buildProgram(io: Io, modules: readonly CommandModule[], done: (code: number) => void): Command {
  const program = new Command('tenantform')
    .description('GitOps batch provisioner: tenants and workspaces as YAML, planned and applied against EC2 and Cloudflare')
    .version(packageVersion(), '-V, --version')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  program.addHelpText(
    'after',
    '\nExit codes: 0 nothing to do / all good, 1 error, 2 changes planned or drift found,\n' +
      '            3 refused by a guard, 4 applied with some resources failed or a rollout halted.\n',
  );
  for (const m of modules) m.register(program, io, done);
  // Subcommands inherit the error handling so an unknown flag anywhere is a one-line error.
  for (const sub of program.commands) sub.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  return program;
}

/** Runs the CLI and returns its exit code; never throws for predictable failures. */
export async function main(argv: string[], io: Io = processIo(), modules?: readonly CommandModule[]): Promise<number> {
  let code: number = ExitCode.ok;
  const json = wantsJson(argv);
  // Error text can quote the environment (an SDK message, a URL): scrubbed like command output.
  const out = redactWriters(io);
  try {
    // Inside the try: a command module that fails to load is a bug reported like any other.
    const program = buildProgram(io, modules ?? (await loadCommands(argv)), (c) => (code = c));
    if (argv.length === 0) {
      program.outputHelp();
      return ExitCode.ok;
    }
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version "fail" with exit code 0; commander has already printed the message.
      if (err.exitCode === 0) return ExitCode.ok;
      if (json) out.stdout(renderErrorJson({ operation: 'read command line', resource: null, message: err.message.replace(/^error: /, ''), exitCode: ExitCode.error }));
      return ExitCode.error;
    }
    if (err instanceof TenantformError && !isBug(err)) {
      if (json) out.stdout(renderErrorJson({ operation: err.operation, resource: err.resource ?? null, message: err.message, exitCode: err.exitCode }));
      out.stderr(`error: ${err.message}\n`);
      return err.exitCode;
    }
    renderBug(err, out, json, io.env.TENANTFORM_DEBUG === '1');
    return ExitCode.error;
  }
}

/** The part of `process` the crash handlers use (injectable for tests). */
export interface CrashTarget {
  on(event: 'unhandledRejection' | 'uncaughtException', listener: (err: unknown) => void): unknown;
  exit(code: number): never;
}

/**
 * A rejection nobody awaited or an exception thrown outside main() (a stray timer, an event
 * handler) would otherwise crash the process with Node's stack trace. Reported like a bug inside
 * main: one line that says it is a bug, naming the run when the error carries one, the stack only
 * with TENANTFORM_DEBUG=1; then exit 1 at once, because the process state is no longer known
 * (Node's own behaviour for both, minus the trace). Installed by bin/tenantform.js.
 */
export function installCrashHandlers(io: Io = processIo(), target: CrashTarget = process): void {
  const report = (err: unknown): never => {
    renderBug(err, redactWriters(io), false, io.env.TENANTFORM_DEBUG === '1');
    return target.exit(ExitCode.error);
  };
  target.on('unhandledRejection', report);
  target.on('uncaughtException', report);
}

/**
 * A bug (an InternalError, or anything thrown that is not a TenantformError) is one line that
 * says so and names the run, whose audit row holds the rest; the stack only with
 * TENANTFORM_DEBUG=1, for the bug report. Everything goes through the redacting writers.
 */
function renderBug(err: unknown, out: Pick<Io, 'stdout' | 'stderr'>, json: boolean, debug: boolean): void {
  const first = (err instanceof Error ? err.message : String(err)).split('\n')[0]!.trim();
  const runId = runIdOf(err);
  const message = `internal error: ${first || (err instanceof Error ? err.name : 'no message')} — this is a bug in tenantform, please report it${runId ? ` (run ${runId})` : ''}`;
  const stack = err instanceof Error ? stackWithCauses(err) : undefined;
  if (json) {
    out.stdout(
      renderErrorJson({
        operation: err instanceof InternalError ? err.operation : 'tenantform',
        resource: err instanceof InternalError ? (err.resource ?? null) : null,
        message,
        exitCode: ExitCode.error,
        bug: true,
        ...(runId ? { runId } : {}),
        ...(debug && stack ? { stack } : {}),
      }),
    );
  }
  out.stderr(`error: ${message}\n`);
  if (debug && stack) out.stderr(`${stack}\n`);
}

/** The stack, then each cause's, as Node prints them (`[cause]` chains are where SDK errors hide). */
function stackWithCauses(err: Error): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e !== undefined && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    parts.push(e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : String(e));
  }
  return parts.join('\ncaused by: ');
}
