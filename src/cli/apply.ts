/**
 * `tenantform apply [PLAN_FILE]`: the apply use case (src/app/apply.ts) with the process's
 * environment, a confirmation on a terminal (elsewhere --auto-approve is required), SIGINT/SIGTERM
 * turned into an abort (the run is recorded as interrupted and the lease released before the
 * signal ends the process), and the plan and change set rendered.
 *
 * Exit codes: 0 applied (or nothing to do), 1 error or not confirmed, 3 refused (lock held, stale
 * plan, guard), 4 applied with failures or a halted rollout.
 */
import { resolve } from 'node:path';
import { Option } from 'commander';
import { applyFleet, type ApplyResult } from '../app/apply.js';
import { Interruption } from '../app/interrupt.js';
import type { ProgressEvent } from '../app/ports.js';
import type { Clock, Deadlines } from '../apply/context.js';
import { InputError } from '../errors.js';
import type { GuardAllowances } from '../plan/guards.js';
import { redactor as defaultRedactor, redactWriters, type Redactor } from '../redact.js';
import { renderChangeSetJson } from '../render/changeset-json.js';
import { renderChangeSetText } from '../render/changeset-text.js';
import { renderPlanText } from '../render/plan-text.js';
import { openAuditStore } from '../store/index.js';
import { cloudSessionFactory } from './cloud-session.js';
import type { CommandModule } from './command.js';
import type { Io } from './io.js';
import { addDbOption, addRepoOption, collect, dbFile, parsePositiveInt, repoDir } from './options.js';
import { progressWriter, type ProgressMode } from './progress.js';
import { abortOnSignals } from './signals.js';
import { printInvalidInput } from './invalid-input.js';

export interface ApplyCommandOptions {
  repo?: string;
  autoApprove?: boolean;
  allowDeletes?: string;
  allowTerminations?: string;
  allowReplacements?: string;
  replace?: string[];
  db?: string;
  json?: boolean;
  lockTtl?: string;
  allowEmpty?: boolean;
  allowDirty?: boolean;
}

/** Seams for tests and embedding; the product uses the defaults. */
export interface ApplyDependencies {
  /** Time for polls, deadlines, rate budgets and throttle backoff (tests pass a virtual clock). */
  clock?: Clock;
  deadlines?: Partial<Deadlines>;
  now?: () => Date;
  /** Runs once the lease is held, before anything is observed. */
  onLocked?: () => void | Promise<void>;
}

export type ApplyRun = Omit<ApplyResult, 'diagnostics'>;

const DEFAULT_LOCK_TTL_SECONDS = 60;

export async function runApply(
  io: Io,
  planFile: string | undefined,
  opts: ApplyCommandOptions,
  deps: ApplyDependencies = {},
  redactor: Redactor = defaultRedactor,
): Promise<ApplyRun> {
  redactor.registerEnv(io.env);
  const out = redactWriters(io, redactor);
  const dir = repoDir(io, opts.repo);
  const allow: GuardAllowances = {
    deletes: opts.allowDeletes === undefined ? undefined : parsePositiveInt('--allow-deletes', opts.allowDeletes),
    terminations: opts.allowTerminations === undefined ? undefined : parsePositiveInt('--allow-terminations', opts.allowTerminations),
    replacements: opts.allowReplacements === undefined ? undefined : parsePositiveInt('--allow-replacements', opts.allowReplacements),
  };
  if (planFile !== undefined && (opts.replace ?? []).length > 0) {
    throw new InputError('a saved plan already says what it replaces: pass --replace to `plan --out`, or apply without a plan file', {
      operation: 'read command line',
      resource: '--replace',
    });
  }
  const lockTtlMs = parsePositiveInt('--lock-ttl', opts.lockTtl ?? String(DEFAULT_LOCK_TTL_SECONDS)) * 1000;
  // Before anything else reads or makes a file: a URL other than postgres:// is refused, and a password is registered.
  const dbPath = dbFile(io, opts, redactor);

  const interrupt = abortOnSignals();
  const writer = progressWriter(progressMode(io, opts), out.stderr);
  const progress = (e: ProgressEvent): void => {
    if (e.kind === 'planned') {
      if (!opts.json) out.stdout(renderPlanText(e.plan, { color: io.color }));
    } else if (e.kind === 'interrupted') {
      writer.finish();
      interrupt.handled();
    } else writer.write(e);
  };
  let result: ApplyResult;
  try {
    result = await applyFleet({
      repoDir: dir,
      wiringEnv: io.env,
      clients: cloudSessionFactory(io.env),
      openStore: () => openAuditStore(dbPath, { redactor }),
      ci: isCi(io.env),
      redactor,
      confirm: () => confirmed(io, out, opts),
      ...(planFile !== undefined ? { planFile: { path: resolve(io.cwd, planFile), name: planFile } } : {}),
      allow,
      ...(opts.replace !== undefined ? { replace: opts.replace } : {}),
      ...(opts.allowEmpty !== undefined ? { allowEmpty: opts.allowEmpty } : {}),
      ...(opts.allowDirty !== undefined ? { allowDirty: opts.allowDirty } : {}),
      lockTtlMs,
      signal: interrupt.signal,
      progress,
      ...deps,
    });
  } catch (e) {
    // Stopped by a signal before it held anything: the re-raised signal ends the process.
    if (e instanceof Interruption && e === interrupt.signal.reason) return { code: e.exitStatus };
    throw e;
  } finally {
    writer.finish();
    // A signal that came while nothing was held (or after the run) ends the process now.
    interrupt.handled();
    interrupt.dispose();
  }
  if (result.diagnostics) {
    printInvalidInput(out, result.diagnostics, { json: opts.json, dir });
    return { code: result.code };
  }
  const { changeSet, plan } = result;
  if (changeSet && plan) {
    if (opts.json) out.stdout(renderChangeSetJson(changeSet));
    else if (plan.actions.length > 0) out.stdout(renderChangeSetText(changeSet, { color: io.color }));
  }
  return result;
}

/** A live line only on a terminal outside CI; JSON lines with --json; plain lines elsewhere. */
function progressMode(io: Io, opts: ApplyCommandOptions): ProgressMode {
  if (opts.json) return 'json';
  return io.stderrIsTTY === true && !isCi(io.env) ? 'live' : 'plain';
}

/** CI=true (or 1), as GitHub Actions, GitLab CI and most runners set it. */
function isCi(env: NodeJS.ProcessEnv): boolean {
  const v = env.CI?.trim().toLowerCase();
  return v === 'true' || v === '1';
}

async function confirmed(io: Io, out: Io, opts: ApplyCommandOptions): Promise<boolean> {
  if (opts.autoApprove) return true;
  if (!io.isTTY || !io.readLine) {
    throw new InputError('not a terminal, so nothing can be confirmed; pass --auto-approve to apply without asking', { operation: 'apply', resource: 'confirmation' });
  }
  const answer = await io.readLine('\nApply these changes? Only "yes" is accepted: ');
  if (answer?.trim() === 'yes') return true;
  out.stderr('apply cancelled; nothing was changed\n');
  return false;
}

/** The apply command with its seams set (tests pass a virtual clock); `applyCommand` uses the defaults. */
export function applyCommandWith(deps: ApplyDependencies): CommandModule {
  return {
    register(program, io, done) {
      const cmd = program
        .command('apply')
        .argument('[plan-file]', 'a plan saved with `plan --out`; without it, apply plans afresh')
        .description('apply a saved plan (refused when the world moved) or plan and apply; exit 0, 3 refused, 4 some changes failed');
      addDbOption(addRepoOption(cmd))
        .option('--auto-approve', 'apply without asking (required when stdin is not a terminal)')
        .option('--allow-deletes <n>', 'let up to N tenant deletes pass the maxDeletes guard')
        .option('--allow-empty', 'accept a fleet with no tenants (an empty fleet still never deletes anything)')
        .option('--allow-dirty', 'apply uncommitted changes to fleet.yaml or tenants/; the run is recorded as <commit>-dirty')
        .option('--allow-terminations <n>', 'let up to N instance terminations (workspace deletes, replacements) pass the maxTerminations guard')
        .option('--allow-replacements <n>', 'let up to N instance replacements pass the maxReplacements guard')
        .option('--replace <target>', 'replace the instance of <slug> or <slug>/<workspace> (repeatable; not with a plan file)', collect)
        .addOption(new Option('--json', 'print the change set (or the error) as JSON'))
        .option('--lock-ttl <seconds>', `lease time-to-live; renewed while running (default ${DEFAULT_LOCK_TTL_SECONDS})`)
        .action(async (planFile: string | undefined, opts: ApplyCommandOptions) => done((await runApply(io, planFile, opts, deps)).code));
    },
  };
}

export const applyCommand: CommandModule = applyCommandWith({});
