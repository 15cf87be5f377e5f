/**
 * `tenantform sweep [--repo DIR] [--delete] [--min-age 30m] [--allow-deletes N] [--json | --markdown]`:
 * the sweep use case (src/app/sweep.ts) with the process's environment, SIGINT/SIGTERM turned into
 * an abort, and the report rendered. Exit 0 nothing found, 2 orphans found (dry run) or some
 * left (too young, protected, unattributed, lost claims), 3 refused by a guard (empty fleet,
 * maxDeletes, lock held), 4 some deletes failed, 1 error (bad input: no call made).
 */
import { Option } from 'commander';
import { Interruption } from '../app/interrupt.js';
import type { ProgressEvent } from '../app/ports.js';
import { sweepFleet, type SweepResult } from '../app/sweep.js';
import type { Clock, Deadlines } from '../apply/context.js';
import { InputError } from '../errors.js';
import { redactor as defaultRedactor, redactWriters, type Redactor } from '../redact.js';
import { renderSweepJson } from '../render/sweep-json.js';
import { renderSweepMarkdown } from '../render/sweep-markdown.js';
import { renderSweepText } from '../render/sweep-text.js';
import { openAuditStore } from '../store/index.js';
import { cloudSessionFactory } from './cloud-session.js';
import type { CommandModule } from './command.js';
import type { Io } from './io.js';
import { addDbOption, addRepoOption, dbFile, parsePositiveInt, repoDir } from './options.js';
import { abortOnSignals } from './signals.js';
import { printInvalidInput } from './invalid-input.js';

export interface SweepCommandOptions {
  repo?: string;
  db?: string;
  delete?: boolean;
  minAge?: string;
  allowDeletes?: string;
  json?: boolean;
  markdown?: boolean;
  lockTtl?: string;
}

/** Seams for tests and embedding; the product uses the defaults. */
export interface SweepDependencies {
  clock?: Clock;
  deadlines?: Partial<Deadlines>;
  now?: () => Date;
  onLocked?: () => void | Promise<void>;
  onObserved?: () => void | Promise<void>;
}

export const DEFAULT_MIN_AGE = '30m';
const DEFAULT_LOCK_TTL_SECONDS = 60;
const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `30m`, `0s`, `2h`, `1d`, `90s`: a whole number and one unit. */
export function parseMinAge(value: string): number {
  const m = /^(\d+)([smhd])$/.exec(value.trim());
  const ms = m ? Number(m[1]) * UNIT_MS[m[2]!]! : Number.NaN;
  if (!Number.isSafeInteger(ms)) {
    throw new InputError(`expected a duration such as 30m, 2h, 1d or 0s, got "${value}"`, { operation: 'read command line', resource: '--min-age' });
  }
  return ms;
}

export async function runSweep(io: Io, opts: SweepCommandOptions, deps: SweepDependencies = {}, redactor: Redactor = defaultRedactor): Promise<SweepResult> {
  redactor.registerEnv(io.env);
  const out = redactWriters(io, redactor);
  const dir = repoDir(io, opts.repo);
  // Flags first: a bad one is exit 1 before anything is read or called.
  const minAgeMs = parseMinAge(opts.minAge ?? DEFAULT_MIN_AGE);
  const allowDeletes = opts.allowDeletes === undefined ? undefined : parsePositiveInt('--allow-deletes', opts.allowDeletes);
  const lockTtlMs = parsePositiveInt('--lock-ttl', opts.lockTtl ?? String(DEFAULT_LOCK_TTL_SECONDS)) * 1000;
  const dbPath = dbFile(io, opts, redactor);

  const interrupt = abortOnSignals();
  const progress = (e: ProgressEvent): void => {
    if (e.kind === 'note') out.stderr(`note: ${e.message}\n`);
    else if (e.kind === 'warning') out.stderr(`warning: ${e.message}\n`);
    else if (e.kind === 'interrupted') interrupt.handled();
  };
  let result: SweepResult;
  try {
    result = await sweepFleet({
      repoDir: dir,
      wiringEnv: io.env,
      clients: cloudSessionFactory(io.env),
      openStore: () => openAuditStore(dbPath, { redactor }),
      redactor,
      delete: opts.delete ?? false,
      minAgeMs,
      allowDeletes,
      lockTtlMs,
      signal: interrupt.signal,
      progress,
      ...deps,
    });
  } catch (e) {
    if (e instanceof Interruption && e === interrupt.signal.reason) return { code: e.exitStatus };
    throw e;
  } finally {
    interrupt.handled();
    interrupt.dispose();
  }
  if (result.diagnostics) {
    printInvalidInput(out, result.diagnostics, { json: opts.json, dir });
    return result;
  }
  if (result.report) {
    out.stdout(opts.json ? renderSweepJson(result.report) : opts.markdown ? renderSweepMarkdown(result.report) : renderSweepText(result.report, { color: io.color }));
  }
  return result;
}

/** The sweep command with its seams set (tests pass a virtual clock); `sweepCommand` uses the defaults. */
export function sweepCommandWith(deps: SweepDependencies): CommandModule {
  return {
    register(program, io, done) {
      const cmd = program
        .command('sweep')
        .description('find resources carrying this environment’s marks that nothing declares (and lost claims); --delete removes the old, unprotected ones');
      addDbOption(addRepoOption(cmd))
        .option('--delete', 'delete the orphans (default: a dry run that only reports)')
        .option('--min-age <duration>', `leave anything younger than this (e.g. 30m, 2h, 0s; default ${DEFAULT_MIN_AGE})`)
        .option('--allow-deletes <n>', 'let up to N orphaned tenants pass the maxDeletes guard')
        .addOption(new Option('--json', 'print the report as JSON (versioned)').conflicts('markdown'))
        .option('--markdown', 'print the report as Markdown (for an issue or a job summary)')
        .option('--lock-ttl <seconds>', `lease time-to-live with --delete; renewed while running (default ${DEFAULT_LOCK_TTL_SECONDS})`)
        .action(async (opts: SweepCommandOptions) => done((await runSweep(io, opts, deps)).code));
    },
  };
}

export const sweepCommand: CommandModule = sweepCommandWith({});
