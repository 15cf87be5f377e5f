/**
 * The part of apply that runs under the lease: observe, re-check a saved plan against the world
 * (or plan afresh), re-derive every guard, check the wiring against the cloud, ask the caller's
 * `confirm`, execute from the plan's intents, and flush the audit rows. Nothing mutates before
 * the staleness check, the guards, the wiring check and the confirmation pass.
 *
 * The observation also notes first sightings in the store (as sweep does), so a security group,
 * bundle or record an apply has seen is aged from then when it is later orphaned, not from the
 * sweep that first finds it.
 */
import { accountOf } from '../accounts.js';
import { AuditRecorder } from '../apply/audit-recorder.js';
import { changeSetExitCode, CHANGESET_FORMAT_VERSION, summarise, type ChangeSet } from '../apply/changeset.js';
import { actFleet, actIn, deadlinesFor, provisionWiring, systemClock, type ActContext } from '../apply/context.js';
import { accountFailures, actAccounts, canaryRequest, observeAccounts, observedPart, unobservedAccounts } from './accounts.js';
import { executePlan } from '../apply/executor.js';
import { evaluateGuards, observeScopeFor, staleReasons } from '../apply/preflight.js';
import { DEFAULT_QUOTA_LIMITS, recheckQuotas } from './quotas.js';
import { checkWiring, wiringNeeds } from '../apply/wiring-check.js';
import type { DesiredState } from '../desired/model.js';
import { AccountUnavailable, ExitCode, GuardRefusal, InternalError } from '../errors.js';
import type { Inventory } from '../live/model.js';
import { observe } from '../live/observe.js';
import { planChanges } from '../plan/diff.js';
import { sightingKeys } from '../sweep/find.js';
import type { Plan } from '../plan/model.js';
import type { AuditStore, RunStatus } from '../store/index.js';
import type { ApplyInput } from './apply-input.js';
import type { ApplySource } from './apply-source.js';
import type { ProgressSink } from './ports.js';
import { auditWriteWarnings } from './recorded-run.js';

export interface LockedInput {
  input: ApplyInput;
  progress: ProgressSink;
  source: ApplySource;
  store: AuditStore;
  runId: string;
  /** The lease's: aborted when the lease is lost or the caller's signal aborts. */
  signal: AbortSignal;
  replace: string[];
  /** What the run, its audit rows and GitCommit tags record: HEAD, `<HEAD>-dirty`, or nothing. */
  gitCommit: string | undefined;
}

export interface LockedResult {
  code: number;
  status: Exclude<RunStatus, 'running'>;
  summary: unknown;
  plan?: Plan;
  changeSet?: ChangeSet;
}

export async function applyLocked(locked: LockedInput): Promise<LockedResult> {
  const { input, progress, source, runId, signal, replace, gitCommit } = locked;
  const { desired, wiring, settings, environment } = source;
  const { allow } = input;
  // As plan and validate: an empty fleet is refused unless asked for, and even then the planner's
  // emptyDesired guard never plans "delete everything". Refused before any cloud call.
  if (desired && desired.tenants.length === 0 && !input.allowEmpty) {
    throw new GuardRefusal(
      'refused by a guard, nothing was changed:\n  - emptyDesired: the fleet declares no tenants; pass --allow-empty if that is what you mean (an empty fleet is still never planned as "delete everything")',
      { operation: 'apply', resource: `environment ${environment}` },
    );
  }
  const clock = input.clock ?? systemClock;
  const now = input.now ?? (() => new Date());
  const session = input.clients({
    region: wiring.region,
    budgets: settings.budgets,
    cloudflare: wiring.cloudflare,
    clock,
    ...(wiring.canary ? { canary: canaryRequest(wiring.canary, environment) } : {}),
  });
  const { aws, cloudflare, gate, readers } = session;
  const accounts = observeAccounts(session);
  try {
    let plan: Plan;
    let inventory: Inventory;
    if (source.saved !== undefined) {
      const saved = source.saved;
      const name = input.planFile?.name ?? 'file';
      inventory = await observe(readers, { environment, appDomain: settings.appDomain, scope: observeScopeFor(saved), now, ...accounts });
      // Actions in an account that could not be observed fail with its error; the rest are checked and go on.
      const moved = staleReasons(observedPart(saved, unobservedAccounts(inventory)), inventory, desired);
      if (moved.length > 0) {
        throw new GuardRefusal(
          `the plan is stale, re-run plan (${moved.length} change${moved.length === 1 ? '' : 's'} since it was made):\n${moved.map((r) => `  - ${r.message}`).join('\n')}`,
          { operation: 'apply', resource: `plan ${name}` },
        );
      }
      if (saved.basis.commit !== undefined && desired?.commit !== undefined && saved.basis.commit !== desired.commit) {
        progress({
          kind: 'note',
          message: `the fleet repository moved from ${saved.basis.commit.slice(0, 12)} to ${desired.commit.slice(0, 12)} without changing the desired state; applying the plan`,
        });
      }
      plan = saved;
    } else {
      if (!desired) throw new InternalError('apply without a plan file needs the fleet repository', { operation: 'apply' });
      inventory = await observe(readers, { environment, appDomain: settings.appDomain, now, ...accounts });
      plan = planChanges(desired, inventory, {
        now: now().toISOString(),
        backup: wiring.backup,
        allowDeletes: allow.deletes,
        allowTerminations: allow.terminations,
        allowReplacements: allow.replacements,
        replace,
      });
    }

    await noteSightings(locked, inventory);

    // Every guard again, from the actions, the fresh observation and the repository (when at hand): never from the plan's own findings.
    const verdict = await recheckQuotas(evaluateGuards(plan, { inventory, desired, limits: desired ? desired.fleet.guards : settings.guards, allow }), {
      readers,
      inventory,
      limits: desired?.fleet.quotas ?? settings.quotas ?? DEFAULT_QUOTA_LIMITS,
      canary: session.canary?.readers,
    });
    progress({ kind: 'planned', plan: verdict.plan });
    if (verdict.refusals.length > 0) {
      throw new GuardRefusal(
        `refused by ${verdict.refusals.length === 1 ? 'a guard' : 'guards'}, nothing was changed:\n${verdict.refusals.map((g) => `  - ${g.guard}: ${g.message}`).join('\n')}`,
        { operation: 'apply', resource: `environment ${environment}` },
      );
    }
    const unreachable = accountFailures(verdict.plan);
    if (plan.actions.length === 0) {
      const empty = emptyChangeSet(environment, runId, now().toISOString(), settings.rollout.maxFailureRatio);
      if (unreachable.length > 0) empty.accountFailures = unreachable;
      const code = changeSetExitCode(empty);
      return {
        code,
        status: code === ExitCode.ok ? 'succeeded' : 'partial',
        summary: { actions: empty.summary, ...(unreachable.length ? { accountFailures: unreachable } : {}) },
        plan,
        changeSet: empty,
      };
    }
    const mainAct = { aws, call: gate, wiring: provisionWiring(wiring) };
    const act: Omit<ActContext, 'audit'> = {
      wiring: mainAct.wiring,
      fleet: actFleet(settings),
      aws,
      cloudflare,
      call: gate,
      ...(session.canary ? { accounts: actAccounts(session, wiring, mainAct) } : {}),
      warn: (m) => progress({ kind: 'warning', message: m }),
      redactor: input.redactor,
      gitCommit,
      clock,
      deadlines: { ...deadlinesFor(actFleet(settings)), ...input.deadlines },
    };
    // Read-only: a VPC, subnet, group, profile, AMI or zone the cloud does not know is refused
    // (exit 1, naming the variable) before anything is created, and before anyone is asked.
    await checkAccountsWiring({ ...act, audit: () => undefined }, verdict.plan);
    if (!(await input.confirm(verdict.plan))) {
      return { code: ExitCode.error, status: 'refused', summary: { error: 'not confirmed' }, plan };
    }

    const recorder = new AuditRecorder({ store: locked.store, runId, environment, gitCommit, slugOf: slugIndex(plan, desired) });
    const ctx: ActContext = { ...act, audit: recorder.event };
    progress({ kind: 'executing', actions: verdict.plan.actions.length, budgets: settings.budgets });
    const changeSet = await executePlan(verdict.plan, ctx, {
      runId,
      signal,
      now,
      onResult: (r) => {
        recorder.failure(r);
        progress({ kind: 'result', result: r });
      },
      onWave: (event) => progress({ kind: 'wave', event }),
    });
    for (const message of auditWriteWarnings(await recorder.flush())) progress({ kind: 'warning', message });

    if (unreachable.length > 0) changeSet.accountFailures = unreachable;
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
        ...(unreachable.length > 0 ? { accountFailures: unreachable } : {}),
        rolloutHalted: changeSet.rollout.halted,
      },
    };
  } finally {
    session.close();
  }
}

/**
 * The wiring preflight in each account the plan acts in, with that account's clients and
 * variables. An account whose role is refused is not checked: its actions fail with that error
 * (AccountUnavailable) and the others go on.
 */
async function checkAccountsWiring(ctx: ActContext, plan: Plan): Promise<void> {
  const names = [...new Set(plan.actions.map((a) => accountOf(a.intent)))];
  if (names.length === 0) return checkWiring(ctx, wiringNeeds(plan));
  await Promise.all(
    names.map(async (name) => {
      const needs = wiringNeeds({ ...plan, actions: plan.actions.filter((a) => accountOf(a.intent) === name) });
      try {
        await checkWiring(actIn(ctx, name), needs);
      } catch (e) {
        if (!(e instanceof AccountUnavailable)) throw e;
      }
    }),
  );
}

/** Best effort: a store that cannot note sightings never stops an apply (sweep notes them again). */
async function noteSightings(locked: LockedInput, inventory: Inventory): Promise<void> {
  try {
    // Never pruned here: a saved plan's observation may cover a few tenants only.
    await locked.store.recordSightings(locked.source.environment, sightingKeys(inventory), inventory.observedAt);
  } catch (e) {
    locked.progress({ kind: 'warning', message: `first sightings could not be recorded: ${e instanceof Error ? e.message : String(e)}` });
  }
}

function slugIndex(plan: Plan, desired: DesiredState | undefined): (orgId: string) => string {
  const slugs = new Map<string, string>();
  for (const a of plan.actions) slugs.set(a.target.orgId, a.target.slug);
  for (const t of desired?.tenants ?? []) slugs.set(t.spec.orgId, t.spec.slug);
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
