/**
 * `tenantform drift`: the drift use case (src/app/drift.ts) with the process's environment, then
 * render. Exit 0 no drift, 2 drift found, 1 error (invalid fleet, wiring or flags, cloud failure).
 */
import { Option } from 'commander';
import { driftFleet } from '../app/drift.js';
import type { ProgressEvent } from '../app/ports.js';
import { driftExitCode, type DriftResult } from '../drift/model.js';
import { ExitCode } from '../errors.js';
import { redactor as defaultRedactor, redactWriters, type Redactor } from '../redact.js';
import { renderDriftJson } from '../render/drift-json.js';
import { renderDriftMarkdown } from '../render/drift-markdown.js';
import { renderDriftText } from '../render/drift-text.js';
import { deepCheckStoreOf } from '../store/deep-checks.js';
import { openAuditStore } from '../store/index.js';
import type { Clock } from '../rate/index.js';
import { cloudSessionFactory } from './cloud-session.js';
import type { CommandModule } from './command.js';
import type { Io } from './io.js';
import { addDbOption, addRepoOption, dbFile, parsePositiveInt, repoDir } from './options.js';
import { printInvalidInput } from './invalid-input.js';

export interface DriftCommandOptions {
  repo?: string;
  db?: string;
  json?: boolean;
  markdown?: boolean;
  budget?: string;
  fix?: boolean;
  lockTtl?: string;
}

/** Seams for tests: the clock polls and rate budgets use during --fix. */
export interface DriftDependencies {
  clock?: Clock;
}

const DEFAULT_LOCK_TTL_SECONDS = 60;

export interface DriftCommandRun {
  code: number;
  result?: DriftResult;
}

export async function runDrift(io: Io, opts: DriftCommandOptions, deps: DriftDependencies = {}, redactor: Redactor = defaultRedactor): Promise<DriftCommandRun> {
  redactor.registerEnv(io.env);
  const out = redactWriters(io, redactor);
  const dir = repoDir(io, opts.repo);
  const budget = opts.budget === undefined ? undefined : parsePositiveInt('--budget', opts.budget);
  const lockTtlMs = parsePositiveInt('--lock-ttl', opts.lockTtl ?? String(DEFAULT_LOCK_TTL_SECONDS)) * 1000;
  const dbPath = dbFile(io, opts, redactor);
  const progress = (e: ProgressEvent): void => {
    if (e.kind === 'warning') out.stderr(`warning: ${e.message}\n`);
    else if (e.kind === 'note') out.stderr(`note: ${e.message}\n`);
  };
  const run = await driftFleet({
    repoDir: dir,
    wiringEnv: io.env,
    clients: cloudSessionFactory(io.env),
    openStore: async () => deepCheckStoreOf(await openAuditStore(dbPath, { redactor })),
    redactor,
    ...(budget !== undefined ? { budget } : {}),
    ...(opts.fix ? { fix: { openAuditStore: () => openAuditStore(dbPath, { redactor }), lockTtlMs, ...(deps.clock ? { clock: deps.clock } : {}) } } : {}),
    progress,
  });
  if (!run.ok) {
    printInvalidInput(out, run.diagnostics, { json: opts.json, dir });
    return { code: ExitCode.error };
  }
  const { result } = run;
  out.stdout(opts.json ? renderDriftJson(result) : opts.markdown ? renderDriftMarkdown(result) : renderDriftText(result, { color: io.color }));
  return { code: driftExitCode(result), result };
}

/** The drift command with its seams set (tests pass a virtual clock); `driftCommand` uses the defaults. */
export function driftCommandWith(deps: DriftDependencies): CommandModule {
  return {
    register(program, io, done) {
      addDbOption(
        addRepoOption(
          program
            .command('drift')
            .description('observe deeper than plan and report what differs from what tenantform would have created; exit 0 none, 2 drift found, 4 a --fix repair failed'),
        ),
      )
        .addOption(new Option('--json', 'print the drift result as JSON (versioned)').conflicts('markdown'))
        .option('--markdown', 'print the drift result as Markdown (an issue or a job summary)')
        .option('--budget <n>', 'deep-check per run at most N per-tenant calls on each service (stalest tenants first; list calls always cover the fleet)')
        .option('--fix', 'repair what can be repaired in place (under the environment lock, audited; never a delete), then look again')
        .option('--lock-ttl <seconds>', `with --fix: lease time-to-live; renewed while running (default ${DEFAULT_LOCK_TTL_SECONDS})`)
        .action(async (opts: DriftCommandOptions) => done((await runDrift(io, opts, deps)).code));
    },
  };
}

export const driftCommand: CommandModule = driftCommandWith({});
