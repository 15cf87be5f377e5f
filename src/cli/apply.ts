/**
 * `tenantform apply [PLAN_FILE]`: take the environment's lease, then either re-check a saved plan
 * against a fresh, scoped observation (refusing it when the world moved) or plan afresh; refuse
 * on a blocking guard; ask for confirmation on a terminal (elsewhere require --auto-approve);
 * execute; record every resource event and the run in the audit store; print the change set.
 * Nothing mutates before the lease, the staleness check, the guards and the confirmation pass.
 *
 * Exit codes: 0 applied (or nothing to do), 1 error or not confirmed, 3 refused (lock held, stale
 * plan, guard), 4 applied with failures or a halted rollout.
 */
import { openCloudSession } from './cloud-session.js';
import { randomUUID } from 'node:crypto';
import { constants } from 'node:os';
import { resolve } from 'node:path';
import { Option } from 'commander';
import { executePlan } from '../apply/executor.js';
import { AuditRecorder } from '../apply/audit-recorder.js';
import { changeSetExitCode, CHANGESET_FORMAT_VERSION, summarise, type ChangeSet } from '../apply/changeset.js';
import { deadlinesFor, provisionWiring, systemClock, type ActContext, type Clock, type Deadlines } from '../apply/context.js';
import { evaluateGuards, observeScopeFor, staleReasons } from '../apply/preflight.js';
import { checkWiring, wiringNeeds } from '../apply/wiring-check.js';
import { readWiring, type Wiring } from '../config/env.js';
import { hasErrors, sortDiagnostics } from '../desired/diagnostics.js';
import { fleetTree } from '../desired/git.js';
import { loadFleet } from '../desired/load.js';
import type { DesiredState } from '../desired/model.js';
import type { Inventory } from '../live/model.js';
import { ExitCode, GuardRefusal, InputError, TenantformError, tagRunId } from '../errors.js';
import { observe } from '../live/observe.js';
import { planChanges, unknownReplaceTargets } from '../plan/diff.js';
import type { GuardAllowances } from '../plan/guards.js';
import { readPlanFile } from '../plan/file.js';
import type { Plan } from '../plan/model.js';
import { redactor, redactWriters } from '../redact.js';
import { renderChangeSetJson } from '../render/changeset-json.js';
import { renderChangeSetText, resultLine } from '../render/changeset-text.js';
import { buildReport, renderText as renderDiagnosticsText } from '../render/diagnostics.js';
import { renderInvalidInputJson } from '../render/error-json.js';
import { renderPlanText } from '../render/plan-text.js';
import { currentHolder, openAuditStore, withLease, type AuditStore, type RunStatus } from '../store/index.js';
import type { CommandModule } from './command.js';
import type { Io } from './io.js';
import { addDbOption, addRepoOption, collect, dbFile, parsePositiveInt, parseReplace, repoDir } from './options.js';

export interface ApplyCommandOptions {
  repo?: string;
  autoApprove?: boolean;
  allowDeletes?: string;
  allowTerminations?: string;
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

export interface ApplyRun {
  code: number;
  runId?: string;
  plan?: Plan;
  changeSet?: ChangeSet;
}

const DEFAULT_LOCK_TTL_SECONDS = 60;

export async function runApply(io: Io, planFile: string | undefined, opts: ApplyCommandOptions, deps: ApplyDependencies = {}): Promise<ApplyRun> {
  redactor.registerEnv(io.env);
  const out = redactWriters(io);
  const dir = repoDir(io, opts.repo);
  const allow: GuardAllowances = {
    deletes: opts.allowDeletes === undefined ? undefined : parsePositiveInt('--allow-deletes', opts.allowDeletes),
    terminations: opts.allowTerminations === undefined ? undefined : parsePositiveInt('--allow-terminations', opts.allowTerminations),
  };
  if (planFile !== undefined && (opts.replace ?? []).length > 0) {
    throw new InputError('a saved plan already says what it replaces: pass --replace to `plan --out`, or apply without a plan file', {
      operation: 'read command line',
      resource: '--replace',
    });
  }
  const lockTtlMs = parsePositiveInt('--lock-ttl', opts.lockTtl ?? String(DEFAULT_LOCK_TTL_SECONDS)) * 1000;
  // Before anything else reads or makes a file: a URL here is refused.
  const dbPath = dbFile(io, opts);

  // An empty repository loads, so that the planner's emptyDesired guard refuses it (exit 3)
  // rather than the loader's "no tenants" error: either way nothing is deleted.
  const loaded = await loadFleet(dir, { allowEmpty: true, env: io.env });
  const wiringResult = readWiring(io.env, loaded.fleet);
  const diagnostics = sortDiagnostics([...loaded.diagnostics, ...wiringResult.diagnostics.filter((d) => d.severity === 'error')]);
  if (!loaded.state || !wiringResult.wiring || hasErrors(diagnostics)) {
    const report = buildReport(diagnostics, undefined);
    if (opts.json) out.stdout(renderInvalidInputJson(report.diagnostics, dir));
    out.stderr(renderDiagnosticsText(report, io.color));
    return { code: ExitCode.error };
  }
  for (const d of wiringResult.diagnostics) if (d.severity === 'warning') out.stderr(`warning: ${d.message}\n`);
  const desired = loaded.state;
  const replace = parseReplace(opts.replace, (r) => unknownReplaceTargets(desired, r));
  const wiring = wiringResult.wiring;
  const environment = desired.fleet.environment;
  const gitCommit = await recordedCommit(out, dir, opts);

  const store = openAuditStore(dbPath, { redactor });
  const runId = randomUUID();
  const holder = currentHolder(runId);
  let code: number = ExitCode.error;
  let status: Exclude<RunStatus, 'running'> = 'failed';
  let summary: unknown;
  try {
    await store.startRun({ runId, command: 'apply', environment, gitCommit: gitCommit.commit, host: holder.host, pid: holder.pid });
    const result = await withLease(
      store,
      environment,
      holder,
      async (signal) => {
        await deps.onLocked?.();
        if (gitCommit.note) out.stderr(gitCommit.note);
        return applyLocked({ io, out, opts, deps, planFile, desired, wiring, store, runId, signal, allow, replace, gitCommit: gitCommit.commit });
      },
      {
        ttlMs: lockTtlMs,
        onReclaimed: (previous, reason) =>
          out.stderr(
            `note: reclaimed the lease of run ${previous.holder.runId} (pid ${previous.holder.pid} on ${previous.holder.host}): ${reason === 'expired' ? 'it expired' : 'that process is gone'}; the run is recorded as abandoned\n`,
          ),
        // The signal ends the process before the `finally` below: record the run's end now.
        onInterrupt: (signal) =>
          store.finishRun({ runId, status: 'interrupted', exitCode: 128 + (constants.signals[signal] ?? 0), summary: { error: `interrupted by ${signal}` } }),
      },
    );
    code = result.code;
    status = result.status;
    summary = gitCommit.dirty ? { ...(result.summary as object), dirtyTree: gitCommit.dirty } : result.summary;
    return { code, runId, ...(result.plan ? { plan: result.plan } : {}), ...(result.changeSet ? { changeSet: result.changeSet } : {}) };
  } catch (e) {
    code = e instanceof TenantformError ? e.exitCode : ExitCode.error;
    status = code === ExitCode.refused ? 'refused' : 'failed';
    summary = { error: e instanceof Error ? e.message : String(e), ...(gitCommit.dirty ? { dirtyTree: gitCommit.dirty } : {}) };
    tagRunId(e, runId);
    throw e;
  } finally {
    try {
      await store.finishRun({ runId, status, exitCode: code, summary });
    } finally {
      await store.close();
    }
  }
}

interface LockedInput {
  io: Io;
  out: Io;
  opts: ApplyCommandOptions;
  deps: ApplyDependencies;
  planFile: string | undefined;
  desired: DesiredState;
  wiring: Wiring;
  store: AuditStore;
  runId: string;
  signal: AbortSignal;
  allow: GuardAllowances;
  replace: string[];
  /** What the run, its audit rows and GitCommit tags record: HEAD, `<HEAD>-dirty`, or nothing. */
  gitCommit: string | undefined;
}

interface LockedResult {
  code: number;
  status: Exclude<RunStatus, 'running'>;
  summary: unknown;
  plan?: Plan;
  changeSet?: ChangeSet;
}

async function applyLocked(input: LockedInput): Promise<LockedResult> {
  const { io, out, opts, deps, planFile, desired, wiring, runId, signal, allow, replace, gitCommit } = input;
  const { fleet } = desired;
  const environment = fleet.environment;
  // As plan and validate: an empty fleet is refused unless asked for, and even then the planner's
  // emptyDesired guard never plans "delete everything". Refused before any cloud call.
  if (desired.tenants.length === 0 && !opts.allowEmpty) {
    throw new GuardRefusal(
      'refused by a guard, nothing was changed:\n  - emptyDesired: the fleet declares no tenants; pass --allow-empty if that is what you mean (an empty fleet is still never planned as "delete everything")',
      { operation: 'apply', resource: `environment ${environment}` },
    );
  }
  const clock = deps.clock ?? systemClock;
  const now = deps.now ?? (() => new Date());
  const session = openCloudSession(io, { region: wiring.region, budgets: fleet.budgets, cloudflare: wiring.cloudflare, clock });
  const { aws, cloudflare, gate, readers } = session;
  try {

    let plan: Plan;
    let inventory: Inventory;
    if (planFile !== undefined) {
      const path = resolve(io.cwd, planFile);
      const saved = await readPlanFile(path);
      inventory = await observe(readers, { environment, appDomain: fleet.appDomain, scope: observeScopeFor(saved), now });
      const moved = staleReasons(saved, inventory, desired);
      if (moved.length > 0) {
        throw new GuardRefusal(`the plan is stale, re-run plan (${moved.length} change${moved.length === 1 ? '' : 's'} since it was made):\n${moved.map((r) => `  - ${r.message}`).join('\n')}`, {
          operation: 'apply',
          resource: `plan ${planFile}`,
        });
      }
      if (saved.basis.commit !== undefined && desired.commit !== undefined && saved.basis.commit !== desired.commit) {
        out.stderr(`note: the fleet repository moved from ${saved.basis.commit.slice(0, 12)} to ${desired.commit.slice(0, 12)} without changing the desired state; applying the plan\n`);
      }
      plan = saved;
    } else {
      inventory = await observe(readers, { environment, appDomain: fleet.appDomain, now });
      plan = planChanges(desired, inventory, { now: now().toISOString(), backup: wiring.backup, allowDeletes: allow.deletes, allowTerminations: allow.terminations, replace });
    }

    // Every guard again, from the actions, the fresh observation and the repository: never from the plan's own findings.
    const verdict = evaluateGuards(plan, { inventory, desired, allow });
    if (!opts.json) out.stdout(renderPlanText(verdict.plan, { color: io.color }));
    if (verdict.refusals.length > 0) {
      throw new GuardRefusal(`refused by ${verdict.refusals.length === 1 ? 'a guard' : 'guards'}, nothing was changed:\n${verdict.refusals.map((g) => `  - ${g.guard}: ${g.message}`).join('\n')}`, {
        operation: 'apply',
        resource: `environment ${environment}`,
      });
    }
    if (plan.actions.length === 0) {
      const empty = emptyChangeSet(environment, runId, now().toISOString(), fleet.rollout.maxFailureRatio);
      if (opts.json) out.stdout(renderChangeSetJson(empty));
      return { code: ExitCode.ok, status: 'succeeded', summary: { actions: empty.summary }, plan, changeSet: empty };
    }
    const act: Omit<ActContext, 'audit'> = {
      wiring: provisionWiring(wiring),
      fleet,
      aws,
      cloudflare,
      call: gate,
      warn: (m) => out.stderr(`warning: ${m}\n`),
      redactor,
      gitCommit,
      clock,
      deadlines: { ...deadlinesFor(fleet), ...deps.deadlines },
    };
    // Read-only: a VPC, subnet, group, profile, AMI or zone the cloud does not know is refused
    // (exit 1, naming the variable) before anything is created, and before anyone is asked.
    await checkWiring({ ...act, audit: () => undefined }, wiringNeeds(verdict.plan, desired));
    if (!(await confirmed(io, out, opts))) {
      return { code: ExitCode.error, status: 'refused', summary: { error: 'not confirmed' }, plan };
    }

    const recorder = new AuditRecorder({
      store: input.store,
      runId,
      environment,
      gitCommit,
      slugOf: slugIndex(plan, desired),
    });
    const ctx: ActContext = { ...act, audit: recorder.event };
    const changeSet = await executePlan(verdict.plan, ctx, {
      desired,
      runId,
      signal,
      now,
      onResult: (r) => {
        recorder.failure(r);
        out.stderr(`${resultLine(r)}\n`);
      },
    });
    for (const e of await recorder.flush()) out.stderr(`warning: an audit row could not be written: ${e instanceof Error ? e.message : String(e)}\n`);

    out.stdout(opts.json ? renderChangeSetJson(changeSet) : renderChangeSetText(changeSet, { color: io.color }));
    const code = changeSetExitCode(changeSet);
    const status = code === ExitCode.ok ? 'succeeded' : signal.aborted ? 'interrupted' : 'partial';
    return {
      code,
      status,
      plan,
      changeSet,
      summary: {
        actions: changeSet.summary,
        failures: changeSet.results.filter((r) => r.status === 'failed').map((r) => ({ action: r.actionId, error: r.error })),
        rolloutHalted: changeSet.rollout.halted,
      },
    };
  } finally {
    session.close();
  }
}

/**
 * Apply acts on the working tree but records a commit: uncommitted changes to the fleet files
 * would be applied while the audit and the GitCommit tags say HEAD. Refused (exit 1, naming the
 * files) unless --allow-dirty, which records `<HEAD>-dirty` and the files. A folder outside git
 * records no commit, as before, and says so in one line.
 */
async function recordedCommit(out: Io, dir: string, opts: ApplyCommandOptions): Promise<{ commit: string | undefined; dirty?: string[]; note?: string }> {
  const tree = await fleetTree(dir);
  // Said once the run holds the lease (a refused rival's only line is the refusal).
  if (!tree.git) return { commit: undefined, note: `note: ${dir} is not in a git work tree, so this run records no commit\n` };
  if (tree.dirty.length === 0) return { commit: tree.commit };
  const shown = tree.dirty.slice(0, 20).join(', ') + (tree.dirty.length > 20 ? ` and ${tree.dirty.length - 20} more` : '');
  const count = `${tree.dirty.length} file${tree.dirty.length === 1 ? '' : 's'}`;
  if (!opts.allowDirty) {
    throw new InputError(`the fleet repository has uncommitted changes to ${count} (${shown}); commit them, or pass --allow-dirty to apply the working tree as it is`, {
      operation: 'apply',
      resource: dir,
    });
  }
  const commit = tree.commit ? `${tree.commit}-dirty` : undefined;
  out.stderr(`warning: applying uncommitted changes to ${count} (${shown}) with --allow-dirty; recorded as ${commit ?? 'a dirty tree without commit'}\n`);
  return { commit, dirty: tree.dirty };
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

function slugIndex(plan: Plan, desired: DesiredState): (orgId: string) => string {
  const slugs = new Map<string, string>();
  for (const a of plan.actions) slugs.set(a.target.orgId, a.target.slug);
  for (const t of desired.tenants) slugs.set(t.spec.orgId, t.spec.slug);
  return (orgId) => slugs.get(orgId) ?? orgId;
}

function emptyChangeSet(environment: string, runId: string, at: string, maxFailureRatio: number): ChangeSet {
  return {
    formatVersion: CHANGESET_FORMAT_VERSION,
    environment,
    runId,
    startedAt: at,
    finishedAt: at,
    results: [],
    rollout: { waves: [], maxFailureRatio, halted: false },
    summary: summarise([]),
  };
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
        .option('--replace <target>', 'replace the instance of <slug> or <slug>/<workspace> (repeatable; not with a plan file)', collect)
        .addOption(new Option('--json', 'print the change set (or the error) as JSON'))
        .option('--lock-ttl <seconds>', `lease time-to-live; renewed while running (default ${DEFAULT_LOCK_TTL_SECONDS})`)
        .action(async (planFile: string | undefined, opts: ApplyCommandOptions) => done((await runApply(io, planFile, opts, deps)).code));
    },
  };
}

export const applyCommand: CommandModule = applyCommandWith({});
