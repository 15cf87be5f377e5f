/**
 * The apply use case: take the environment's lease, then either re-check a saved plan against a
 * fresh, scoped observation (refusing it when the world moved) or plan afresh; refuse on a
 * blocking guard; check the wiring against the cloud; ask the caller's `confirm`; execute; record
 * every resource event and the run in the audit store. Nothing mutates before the lease, the
 * staleness check, the guards and the confirmation pass.
 *
 * It prints nothing (progress goes to the sink, the plan and change set come back in the result),
 * reads no process state, and installs no signal handler: an outside stop is `signal` aborting
 * (with an Interruption, whose exit status the run is recorded with). Predictable failures are
 * thrown as TenantformErrors (lock held, stale plan, guards: exit 3; bad input: exit 1), after the
 * run is recorded.
 */
import { randomUUID } from 'node:crypto';
import { executePlan } from '../apply/executor.js';
import { AuditRecorder } from '../apply/audit-recorder.js';
import { changeSetExitCode, CHANGESET_FORMAT_VERSION, summarise, type ChangeSet } from '../apply/changeset.js';
import { deadlinesFor, provisionWiring, systemClock, type ActContext, type Clock, type Deadlines } from '../apply/context.js';
import { evaluateGuards, observeScopeFor, staleReasons } from '../apply/preflight.js';
import { checkWiring, wiringNeeds } from '../apply/wiring-check.js';
import { readWiring, type Wiring } from '../config/env.js';
import { hasErrors, sortDiagnostics, type Diagnostic } from '../desired/diagnostics.js';
import { loadFleet } from '../desired/load.js';
import type { DesiredState } from '../desired/model.js';
import { ExitCode, GuardRefusal, TenantformError, tagRunId } from '../errors.js';
import type { Inventory } from '../live/model.js';
import { observe } from '../live/observe.js';
import { planChanges, unknownReplaceTargets } from '../plan/diff.js';
import { readPlanFile } from '../plan/file.js';
import type { GuardAllowances } from '../plan/guards.js';
import type { Plan } from '../plan/model.js';
import type { Redactor } from '../redact.js';
import { currentHolder, withLease, type AuditStore, type RunStatus } from '../store/index.js';
import { localStoreWarning } from './ci-warning.js';
import { recordedCommit } from './dirty-tree.js';
import { Interruption } from './interrupt.js';
import { noProgress, type CloudSessionFactory, type ProgressSink, type WiringEnv } from './ports.js';
import { parseReplace } from './replace.js';

export interface ApplyInput {
  repoDir: string;
  wiringEnv: WiringEnv;
  clients: CloudSessionFactory;
  /** Opened once the fleet and the wiring are known good (an invalid fleet makes no database). */
  openStore: () => AuditStore | Promise<AuditStore>;
  /** Running on a CI runner: a store inside the checkout is then warned about (see ci-warning.ts). */
  ci?: boolean;
  /** Learns the wiring's secrets and every generated one; the store and errors scrub with it. */
  redactor: Redactor;
  /** `confirm` gets the plan that passed the guards and the wiring check; false changes nothing (exit 1). */
  confirm: (plan: Plan) => Promise<boolean>;
  /** A plan saved by `plan --out`: where it is, and how to name it in messages. */
  planFile?: { path: string; name: string };
  allow: GuardAllowances;
  replace?: readonly string[];
  allowEmpty?: boolean;
  allowDirty?: boolean;
  lockTtlMs: number;
  signal?: AbortSignal;
  progress?: ProgressSink;
  /** Time for polls, deadlines, rate budgets and throttle backoff (tests pass a virtual clock). */
  clock?: Clock;
  deadlines?: Partial<Deadlines>;
  now?: () => Date;
  /** Runs once the lease is held, before anything is observed. */
  onLocked?: () => void | Promise<void>;
}

export interface ApplyResult {
  code: number;
  /** Present when the fleet or the wiring was invalid (exit 1, nothing recorded). */
  diagnostics?: Diagnostic[];
  runId?: string;
  plan?: Plan;
  changeSet?: ChangeSet;
}

export async function applyFleet(input: ApplyInput): Promise<ApplyResult> {
  const progress = input.progress ?? noProgress;
  const env = input.wiringEnv;
  input.redactor.registerEnv(env);
  // An empty repository loads, so that the planner's emptyDesired guard refuses it (exit 3)
  // rather than the loader's "no tenants" error: either way nothing is deleted.
  const loaded = await loadFleet(input.repoDir, { allowEmpty: true, env });
  const wiringResult = readWiring(env, loaded.fleet);
  const diagnostics = sortDiagnostics([...loaded.diagnostics, ...wiringResult.diagnostics.filter((d) => d.severity === 'error')]);
  if (!loaded.state || !wiringResult.wiring || hasErrors(diagnostics)) return { code: ExitCode.error, diagnostics };
  for (const d of wiringResult.diagnostics) if (d.severity === 'warning') progress({ kind: 'warning', message: d.message });
  const desired = loaded.state;
  const replace = parseReplace(input.replace, (r) => unknownReplaceTargets(desired, r));
  const wiring = wiringResult.wiring;
  const environment = desired.fleet.environment;
  const gitCommit = await recordedCommit(input.repoDir, input.allowDirty ?? false, progress);

  // Stopped before anything was recorded or held: nothing to record.
  input.signal?.throwIfAborted();
  const store = await input.openStore();
  const localWarning = localStoreWarning(store, input.repoDir, input.ci ?? false);
  if (localWarning) progress({ kind: 'warning', message: localWarning });
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
        await input.onLocked?.();
        if (gitCommit.note) progress({ kind: 'note', message: gitCommit.note });
        return applyLocked({ input, progress, desired, wiring, store, runId, signal, replace, gitCommit: gitCommit.commit });
      },
      {
        ttlMs: input.lockTtlMs,
        ...(input.signal ? { signal: input.signal } : {}),
        onReclaimed: (previous, reason) =>
          progress({
            kind: 'note',
            message: `reclaimed the lease of run ${previous.holder.runId} (pid ${previous.holder.pid} on ${previous.holder.host}): ${reason === 'expired' ? 'it expired' : 'that process is gone'}; the run is recorded as abandoned`,
          }),
        // The process may end as soon as this is recorded: before the `finally` below runs.
        onAbort: (reason) => store.finishRun({ runId, status: 'interrupted', exitCode: exitStatusOf(reason), summary: { error: messageOf(reason) } }),
        onAbortHandled: () => progress({ kind: 'interrupted' }),
      },
    );
    code = result.code;
    status = result.status;
    summary = gitCommit.dirty ? { ...(result.summary as object), dirtyTree: gitCommit.dirty } : result.summary;
    return { code, runId, ...(result.plan ? { plan: result.plan } : {}), ...(result.changeSet ? { changeSet: result.changeSet } : {}) };
  } catch (e) {
    code = e instanceof Interruption ? e.exitStatus : e instanceof TenantformError ? e.exitCode : ExitCode.error;
    status = e instanceof Interruption ? 'interrupted' : code === ExitCode.refused ? 'refused' : 'failed';
    summary = { error: messageOf(e), ...(gitCommit.dirty ? { dirtyTree: gitCommit.dirty } : {}) };
    // A bug reported by the CLI names the run it escaped from.
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

function messageOf(e: unknown): string {
  return e instanceof Interruption ? e.why : e instanceof Error ? e.message : String(e);
}

function exitStatusOf(reason: unknown): number {
  return reason instanceof Interruption ? reason.exitStatus : ExitCode.error;
}

interface LockedInput {
  input: ApplyInput;
  progress: ProgressSink;
  desired: DesiredState;
  wiring: Wiring;
  store: AuditStore;
  runId: string;
  /** The lease's: aborted when the lease is lost or the caller's signal aborts. */
  signal: AbortSignal;
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

async function applyLocked(locked: LockedInput): Promise<LockedResult> {
  const { input, progress, desired, wiring, runId, signal, replace, gitCommit } = locked;
  const { fleet } = desired;
  const { allow } = input;
  const environment = fleet.environment;
  // As plan and validate: an empty fleet is refused unless asked for, and even then the planner's
  // emptyDesired guard never plans "delete everything". Refused before any cloud call.
  if (desired.tenants.length === 0 && !input.allowEmpty) {
    throw new GuardRefusal(
      'refused by a guard, nothing was changed:\n  - emptyDesired: the fleet declares no tenants; pass --allow-empty if that is what you mean (an empty fleet is still never planned as "delete everything")',
      { operation: 'apply', resource: `environment ${environment}` },
    );
  }
  const clock = input.clock ?? systemClock;
  const now = input.now ?? (() => new Date());
  const session = input.clients({ region: wiring.region, budgets: fleet.budgets, cloudflare: wiring.cloudflare, clock });
  const { aws, cloudflare, gate, readers } = session;
  try {
    let plan: Plan;
    let inventory: Inventory;
    if (input.planFile !== undefined) {
      const saved = await readPlanFile(input.planFile.path);
      inventory = await observe(readers, { environment, appDomain: fleet.appDomain, scope: observeScopeFor(saved), now });
      const moved = staleReasons(saved, inventory, desired);
      if (moved.length > 0) {
        throw new GuardRefusal(
          `the plan is stale, re-run plan (${moved.length} change${moved.length === 1 ? '' : 's'} since it was made):\n${moved.map((r) => `  - ${r.message}`).join('\n')}`,
          {
            operation: 'apply',
            resource: `plan ${input.planFile.name}`,
          },
        );
      }
      if (saved.basis.commit !== undefined && desired.commit !== undefined && saved.basis.commit !== desired.commit) {
        progress({
          kind: 'note',
          message: `the fleet repository moved from ${saved.basis.commit.slice(0, 12)} to ${desired.commit.slice(0, 12)} without changing the desired state; applying the plan`,
        });
      }
      plan = saved;
    } else {
      inventory = await observe(readers, { environment, appDomain: fleet.appDomain, now });
      plan = planChanges(desired, inventory, {
        now: now().toISOString(),
        backup: wiring.backup,
        allowDeletes: allow.deletes,
        allowTerminations: allow.terminations,
        replace,
      });
    }

    // Every guard again, from the actions, the fresh observation and the repository: never from the plan's own findings.
    const verdict = evaluateGuards(plan, { inventory, desired, allow });
    progress({ kind: 'planned', plan: verdict.plan });
    if (verdict.refusals.length > 0) {
      throw new GuardRefusal(
        `refused by ${verdict.refusals.length === 1 ? 'a guard' : 'guards'}, nothing was changed:\n${verdict.refusals.map((g) => `  - ${g.guard}: ${g.message}`).join('\n')}`,
        {
          operation: 'apply',
          resource: `environment ${environment}`,
        },
      );
    }
    if (plan.actions.length === 0) {
      const empty = emptyChangeSet(environment, runId, now().toISOString(), fleet.rollout.maxFailureRatio);
      return { code: ExitCode.ok, status: 'succeeded', summary: { actions: empty.summary }, plan, changeSet: empty };
    }
    const act: Omit<ActContext, 'audit'> = {
      wiring: provisionWiring(wiring),
      fleet,
      aws,
      cloudflare,
      call: gate,
      warn: (m) => progress({ kind: 'warning', message: m }),
      redactor: input.redactor,
      gitCommit,
      clock,
      deadlines: { ...deadlinesFor(fleet), ...input.deadlines },
    };
    // Read-only: a VPC, subnet, group, profile, AMI or zone the cloud does not know is refused
    // (exit 1, naming the variable) before anything is created, and before anyone is asked.
    await checkWiring({ ...act, audit: () => undefined }, wiringNeeds(verdict.plan, desired));
    if (!(await input.confirm(verdict.plan))) {
      return { code: ExitCode.error, status: 'refused', summary: { error: 'not confirmed' }, plan };
    }

    const recorder = new AuditRecorder({
      store: locked.store,
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
        progress({ kind: 'result', result: r });
      },
    });
    for (const e of await recorder.flush()) progress({ kind: 'warning', message: `an audit row could not be written: ${messageOf(e)}` });

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
