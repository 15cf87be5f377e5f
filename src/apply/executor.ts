/**
 * The apply executor: a plan's actions → act steps (act.ts, from each action's intent) → a change
 * set. It needs the plan and the act context only: concurrency and the rollout's failure ratio are
 * the plan's `settings`.
 *
 * Order. Each tenant's actions run in plan order (its own before its workspaces', per target:
 * replacement delete, create, repair, update, resize, start, stop, delete), so a tenant's create
 * or repair always precedes its workspaces' creates, and a tenant delete is one cascade that
 * already takes its workspaces first. Independent tenants run in parallel under p-limit
 * (`fleet.budgets.concurrency`); every cloud call goes through the context's rate gate.
 *
 * Redeploys run after that (rollout.ts), in rollout waves (canaries are wave 0), one SSM command per up to
 * 50 instances. A wave whose failure ratio exceeds `rollout.maxFailureRatio` halts the rollout:
 * later waves are skipped as `halted`.
 *
 * Failures. One failing tenant never stops the others. Within a tenant, a failed action skips the
 * rest of its target, and a failed tenant create or repair skips the tenant's remaining actions
 * (its workspaces need its bundle). A failed delete is not retried here: what it left behind is
 * still live and tagged, so the next plan plans it again.
 */
import { performance } from 'node:perf_hooks';
import { GuardRefusal, TenantformError } from '../errors.js';
import { targetKey } from '../plan/diff.js';
import type { Action, Plan } from '../plan/model.js';
import { mapSettled } from '../rate/index.js';
import { actOn } from './act.js';
import { CHANGESET_FORMAT_VERSION, summarise, type ActionResult, type ChangeSet, type ResourceChange, type SkipReason, type WaveResult } from './changeset.js';
import type { ActContext, AuditEvent } from './context.js';
import { runWave, type WaveLedger } from './rollout.js';

export interface ExecuteOptions {
  runId?: string;
  /** Tenants worked on at once; default the plan's `settings.budgets.concurrency`. */
  concurrency?: number;
  /** When aborted (lease lost, SIGINT), no further action starts; the rest are skipped as interrupted. */
  signal?: AbortSignal;
  /** Called as each action settles, for progress output. */
  onResult?: (result: ActionResult) => void;
  now?: () => Date;
}

export async function executePlan(plan: Plan, ctx: ActContext, opts: ExecuteOptions = {}): Promise<ChangeSet> {
  const now = opts.now ?? (() => new Date());
  const startedAt = now().toISOString();
  const run = new Execution(plan, ctx, opts);
  await run.perTenantPhase();
  const waves = await run.rolloutPhase();
  const results = plan.actions.map((a) => run.results.get(a.id)!);
  return {
    formatVersion: CHANGESET_FORMAT_VERSION,
    environment: plan.environment,
    runId: opts.runId,
    startedAt,
    finishedAt: now().toISOString(),
    results,
    rollout: { waves, maxFailureRatio: run.maxFailureRatio, halted: waves.some((w) => w.halted) },
    summary: summarise(results),
  };
}

class Execution implements WaveLedger {
  readonly results = new Map<string, ActionResult>();
  /** Targets (targetKey) with a failed action, and tenants (orgId) whose create or repair failed. */
  private readonly failedTargets = new Set<string>();
  private readonly failedTenants = new Set<string>();
  readonly concurrency: number;
  readonly maxFailureRatio: number;

  constructor(
    private readonly plan: Plan,
    readonly ctx: ActContext,
    private readonly opts: ExecuteOptions,
  ) {
    // A plan without settings was made from no desired state and has no action to run.
    this.concurrency = opts.concurrency ?? plan.settings?.budgets.concurrency ?? 1;
    this.maxFailureRatio = plan.settings?.rollout.maxFailureRatio ?? 0;
  }

  async perTenantPhase(): Promise<void> {
    const byTenant = new Map<string, Action[]>();
    for (const a of this.plan.actions) {
      if (a.kind === 'redeploy') continue;
      byTenant.set(a.target.orgId, [...(byTenant.get(a.target.orgId) ?? []), a]);
    }
    await mapSettled([...byTenant.values()], this.concurrency, async (actions) => {
      for (const a of actions) await this.runOne(a);
    });
  }

  async rolloutPhase(): Promise<WaveResult[]> {
    const byWave = new Map<number, Action[]>();
    for (const a of this.plan.actions) {
      if (a.kind !== 'redeploy') continue;
      byWave.set(a.wave ?? 0, [...(byWave.get(a.wave ?? 0) ?? []), a]);
    }
    const waves: WaveResult[] = [];
    let haltedBy: WaveResult | undefined;
    for (const wave of [...byWave.keys()].sort((x, y) => x - y)) {
      const actions = byWave.get(wave)!;
      if (haltedBy) {
        const detail = `rollout halted: wave ${haltedBy.wave} failed ${haltedBy.failed} of ${haltedBy.actions} (ratio ${haltedBy.failureRatio.toFixed(2)} > ${this.maxFailureRatio})`;
        for (const a of actions) this.skip(a, 'halted', detail);
        continue;
      }
      await runWave(this, actions);
      const failed = actions.filter((a) => this.results.get(a.id)!.status !== 'ok').length;
      const ratio = actions.length === 0 ? 0 : failed / actions.length;
      const result: WaveResult = { wave, actions: actions.length, failed, failureRatio: ratio, halted: ratio > this.maxFailureRatio };
      waves.push(result);
      if (result.halted) haltedBy = result;
    }
    return waves;
  }

  private async runOne(a: Action): Promise<void> {
    if (this.skipIfNotRunnable(a)) return;
    const resources: ResourceChange[] = [];
    const ctx: ActContext = { ...this.ctx, audit: (e) => this.record(e, resources) };
    const started = performance.now();
    try {
      await actOn(ctx, a);
      this.succeed(a, resources, started);
    } catch (e) {
      this.fail(a, e, resources, started);
    }
  }

  // -------------------------------------------------------------------------------------------

  skipIfNotRunnable(a: Action): boolean {
    if (this.opts.signal?.aborted) {
      this.skip(a, 'interrupted', `not started: ${describeAbort(this.opts.signal)}`);
      return true;
    }
    if (a.blockedBy && a.blockedBy.length > 0) {
      this.skip(a, 'blocked', `blocked by ${a.blockedBy.join(', ')}`);
      // A tenant that is not created or repaired cannot host its workspaces' changes either.
      if (a.target.kind === 'tenant' && (a.kind === 'create' || a.kind === 'repair')) this.failedTenants.add(a.target.orgId);
      return true;
    }
    if (this.failedTenants.has(a.target.orgId)) {
      this.skip(a, 'dependency', `tenant ${a.target.slug} could not be created or repaired`);
      return true;
    }
    if (this.failedTargets.has(targetKey(a.target))) {
      this.skip(a, 'dependency', 'an earlier action on the same target failed');
      return true;
    }
    return false;
  }

  record(e: AuditEvent, sink: ResourceChange[]): void {
    sink.push({ kind: e.kind, id: e.resourceId, state: e.state, ...(e.workspaceId ? { workspaceId: e.workspaceId } : {}), ...(e.details ? { details: e.details } : {}) });
    this.ctx.audit(e);
  }

  succeed(a: Action, resources: ResourceChange[], started: number): void {
    this.settle(a, { status: 'ok' }, resources, started);
  }

  fail(a: Action, error: unknown, resources: ResourceChange[], started: number): void {
    this.failedTargets.add(targetKey(a.target));
    if (a.target.kind === 'tenant' && (a.kind === 'create' || a.kind === 'repair' || a.replacement)) this.failedTenants.add(a.target.orgId);
    const message = this.ctx.redactor.redact(error instanceof Error ? error.message : String(error));
    if (error instanceof GuardRefusal) {
      // Refused at the moment it acted (a live DeletionProtection tag): not attempted, like a planned block.
      this.settle(a, { status: 'skipped', skipped: { reason: 'blocked', detail: message } }, resources, started);
      return;
    }
    const failedOperation = error instanceof TenantformError ? error.operation : undefined;
    this.settle(a, { status: 'failed', error: message, ...(failedOperation ? { failedOperation } : {}) }, resources, started);
  }

  private skip(a: Action, reason: SkipReason, detail: string): void {
    this.settle(a, { status: 'skipped', skipped: { reason, detail } }, [], performance.now());
  }

  private settle(a: Action, outcome: Pick<ActionResult, 'status' | 'error' | 'failedOperation' | 'skipped'>, resources: ResourceChange[], started: number): void {
    const result: ActionResult = {
      actionId: a.id,
      kind: a.kind,
      target: a.target,
      ...(a.replacement ? { replacement: true } : {}),
      ...(a.wave !== undefined ? { wave: a.wave } : {}),
      ...outcome,
      resources,
      durationMs: Math.round(performance.now() - started),
    };
    this.results.set(a.id, result);
    this.opts.onResult?.(result);
  }
}

function describeAbort(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason.message : 'the run was interrupted';
}
