/**
 * The apply executor: a plan's actions → act steps → a change set.
 *
 * Order. Each tenant's actions run in plan order (its own before its workspaces', per target:
 * replacement delete, create, repair, update, resize, start, stop, delete), so a tenant's create
 * or repair always precedes its workspaces' creates, and a tenant delete is one cascade that
 * already takes its workspaces first. Independent tenants run in parallel under p-limit
 * (`fleet.budgets.concurrency`); every cloud call goes through the context's rate gate.
 *
 * A resize grows the root volume in place first (ModifyVolume, wait until usable), then changes
 * the instance type, then grows the partition and filesystem over SSM, then sets the declared power.
 *
 * Redeploys run after that, in rollout waves (canaries are wave 0), one SSM command per up to
 * 50 instances. A wave whose failure ratio exceeds `rollout.maxFailureRatio` halts the rollout:
 * later waves are skipped as `halted`.
 *
 * Failures. One failing tenant never stops the others. Within a tenant, a failed action skips the
 * rest of its target, and a failed tenant create or repair skips the tenant's remaining actions
 * (its workspaces need its bundle). A failed delete is not retried here: what it left behind is
 * still live and tagged, so the next plan plans it again.
 */
import { performance } from 'node:perf_hooks';
import type { DesiredState, DesiredTenant, DesiredWorkspace } from '../desired/model.js';
import { CloudError, GuardRefusal, InputError, TenantformError } from '../errors.js';
import { targetKey } from '../plan/diff.js';
import type { Action, ActionTarget, Plan } from '../plan/model.js';
import { mapSettled } from '../rate/index.js';
import { CHANGESET_FORMAT_VERSION, summarise, type ActionResult, type ChangeSet, type ResourceChange, type SkipReason, type WaveResult } from './changeset.js';
import { MAX_INSTANCES_PER_SEND } from './command.js';
import type { ActContext, AuditEvent } from './context.js';
import { growFilesystemTarget, growVolumeTarget, redeploy, resizeTarget, startTarget, stopTarget, type LifecycleTarget, type RedeployResult } from './lifecycle.js';
import { createTenant, deleteTenant, repairTenant, tenantIntent } from './tenant.js';
import { terminateForReplacement, updateTenant, updateWorkspace } from './update.js';
import { createWorkspace, deleteWorkspace, workspaceIntent } from './workspace.js';

export interface ExecuteOptions {
  /** The desired state the plan was made from (checked by the caller: same hash). */
  desired: DesiredState;
  runId?: string;
  /** Tenants worked on at once; default `fleet.budgets.concurrency`. */
  concurrency?: number;
  /** When aborted (lease lost, SIGINT), no further action starts; the rest are skipped as interrupted. */
  signal?: AbortSignal;
  /** Called as each action settles, for progress output. */
  onResult?: (result: ActionResult) => void;
  now?: () => Date;
}

export async function executePlan(plan: Plan, ctx: ActContext, opts: ExecuteOptions): Promise<ChangeSet> {
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
    rollout: { waves, maxFailureRatio: opts.desired.fleet.rollout.maxFailureRatio, halted: waves.some((w) => w.halted) },
    summary: summarise(results),
  };
}

class Execution {
  readonly results = new Map<string, ActionResult>();
  /** Targets (targetKey) with a failed action, and tenants (orgId) whose create or repair failed. */
  private readonly failedTargets = new Set<string>();
  private readonly failedTenants = new Set<string>();
  private readonly tenants: Map<string, DesiredTenant>;
  private readonly concurrency: number;

  constructor(
    private readonly plan: Plan,
    private readonly ctx: ActContext,
    private readonly opts: ExecuteOptions,
  ) {
    this.tenants = new Map(opts.desired.tenants.map((t) => [t.spec.orgId, t]));
    this.concurrency = opts.concurrency ?? opts.desired.fleet.budgets.concurrency;
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
        const detail = `rollout halted: wave ${haltedBy.wave} failed ${haltedBy.failed} of ${haltedBy.actions} (ratio ${haltedBy.failureRatio.toFixed(2)} > ${this.opts.desired.fleet.rollout.maxFailureRatio})`;
        for (const a of actions) this.skip(a, 'halted', detail);
        continue;
      }
      await this.runWave(actions);
      const failed = actions.filter((a) => this.results.get(a.id)!.status !== 'ok').length;
      const ratio = actions.length === 0 ? 0 : failed / actions.length;
      const result: WaveResult = { wave, actions: actions.length, failed, failureRatio: ratio, halted: ratio > this.opts.desired.fleet.rollout.maxFailureRatio };
      waves.push(result);
      if (result.halted) haltedBy = result;
    }
    return waves;
  }

  // -------------------------------------------------------------------------------------------

  private async runOne(a: Action): Promise<void> {
    if (this.skipIfNotRunnable(a)) return;
    const resources: ResourceChange[] = [];
    const ctx: ActContext = { ...this.ctx, audit: (e) => this.record(e, resources) };
    const started = performance.now();
    try {
      await this.act(ctx, a);
      this.settle(a, { status: 'ok' }, resources, started);
    } catch (e) {
      this.fail(a, e, resources, started);
    }
  }

  private async act(ctx: ActContext, a: Action): Promise<void> {
    const t = a.target;
    if (a.kind === 'delete') {
      if (a.replacement) return terminateForReplacement(ctx, a);
      if (t.kind === 'tenant') return deleteTenant(ctx, { orgId: t.orgId, slug: t.slug });
      const instanceIds = a.steps.filter((s) => s.resource === 'instance' && s.op === 'delete' && s.id).map((s) => s.id!);
      return deleteWorkspace(ctx, { orgId: t.orgId, slug: t.slug, workspaceId: t.workspaceId! }, { instanceIds });
    }
    const tenant = this.declaredTenant(a);
    if (t.kind === 'tenant') {
      const intent = tenantIntent(tenant);
      switch (a.kind) {
        case 'create':
          await createTenant(ctx, intent, { cleanStale: !a.replacement });
          return;
        case 'repair': {
          await repairTenant(ctx, intent, a.steps);
          // A new tunnel means a new token in the bundle: the platform re-reads it when its container is recreated.
          if (a.steps.some((s) => s.resource === 'command')) await this.runOnInstance(ctx, a, lifecycleTarget(t), intent.image);
          return;
        }
        case 'update':
          return updateTenant(ctx, a, tenant);
        case 'resize':
          return this.resize(ctx, a, { instanceType: intent.instanceType, volumeGb: intent.volumeGb, power: tenant.spec.power });
        case 'start':
          return startTarget(ctx, lifecycleTarget(t));
        case 'stop':
          return stopTarget(ctx, lifecycleTarget(t));
      }
    } else {
      const ws = this.declaredWorkspace(a, tenant);
      switch (a.kind) {
        case 'create':
        case 'repair':
          await createWorkspace(ctx, workspaceIntent(tenant.spec, ws), { rehome: a.steps.some((s) => s.resource === 'instance' && s.op === 'modify') });
          return;
        case 'update':
          return updateWorkspace(ctx, a, tenant, ws);
        case 'resize':
          return this.resize(ctx, a, { instanceType: ws.effective.instanceType, volumeGb: ws.effective.volumeGb, power: ws.spec.power, tier: ws.effective.tier });
        case 'start':
          return startTarget(ctx, lifecycleTarget(t));
        case 'stop':
          return stopTarget(ctx, lifecycleTarget(t));
      }
    }
    throw new InputError(`action kind ${a.kind} cannot be applied here`, { operation: 'apply', resource: a.id });
  }

  /**
   * A resize: the root volume first (it grows while the instance runs or not), then the instance
   * type (stop → modify → start, restoring the power it found), then the partition and filesystem
   * over SSM (started for it if need be), and last the declared power.
   */
  private async resize(ctx: ActContext, a: Action, want: { instanceType: string; volumeGb: number; power: 'running' | 'stopped'; tier?: string }): Promise<void> {
    const target = lifecycleTarget(a.target);
    const grows = a.steps.some((s) => s.resource === 'volume' && s.op === 'modify');
    const retypes = !grows || a.steps.some((s) => s.resource === 'instance' && s.op === 'modify');
    if (grows) await growVolumeTarget(ctx, target, want.volumeGb);
    if (retypes) await resizeTarget(ctx, target, want.instanceType, want.tier);
    if (grows) {
      await startTarget(ctx, target);
      await growFilesystemTarget(ctx, target);
    }
    return this.convergePower(ctx, a.target, want.power);
  }

  /** A resize restores the power state it found; the declaration may want the other one. */
  private async convergePower(ctx: ActContext, t: ActionTarget, power: 'running' | 'stopped'): Promise<void> {
    if (power === 'running') await startTarget(ctx, lifecycleTarget(t));
    else await stopTarget(ctx, lifecycleTarget(t));
  }

  /** SSM needs a running instance: the plan's start → run → stop steps bracket the command. */
  private async runOnInstance(ctx: ActContext, a: Action, target: LifecycleTarget, image: string): Promise<void> {
    const starts = a.steps.some((s) => s.resource === 'instance' && s.op === 'start');
    const stops = a.steps.some((s) => s.resource === 'instance' && s.op === 'stop');
    if (starts) await startTarget(ctx, target);
    const [result] = await redeploy(ctx, [{ target, image }]);
    if (!result?.ok) throw commandFailure(result, a);
    if (stops) await stopTarget(ctx, target);
  }

  private async runWave(actions: Action[]): Promise<void> {
    const runnable = actions.filter((a) => !this.skipIfNotRunnable(a));
    const sinks = new Map<string, ResourceChange[]>();
    const started = new Map<string, number>();
    for (const a of runnable) {
      sinks.set(auditKey(a.target.orgId, a.target.workspaceId), []);
      started.set(a.id, performance.now());
    }
    // One context for the whole wave: its SSM commands cover many targets, so events are routed by target.
    const ctx: ActContext = { ...this.ctx, audit: (e) => this.record(e, sinks.get(auditKey(e.orgId, e.workspaceId)) ?? []) };
    const sinkOf = (a: Action) => sinks.get(auditKey(a.target.orgId, a.target.workspaceId))!;

    const needsStart = runnable.filter((a) => a.steps.some((s) => s.resource === 'instance' && s.op === 'start'));
    const startFailed = new Set<string>();
    const starts = await mapSettled(needsStart, this.concurrency, (a) => startTarget(ctx, lifecycleTarget(a.target)));
    starts.forEach((s, i) => {
      if (s.status === 'rejected') {
        const a = needsStart[i]!;
        startFailed.add(a.id);
        this.fail(a, s.reason, sinkOf(a), started.get(a.id)!);
      }
    });

    const ready = runnable.filter((a) => !startFailed.has(a.id));
    const chunks: Action[][] = [];
    for (let i = 0; i < ready.length; i += MAX_INSTANCES_PER_SEND) chunks.push(ready.slice(i, i + MAX_INSTANCES_PER_SEND));
    const settled = await mapSettled(chunks, this.concurrency, (chunk) =>
      redeploy(
        ctx,
        chunk.map((a) => ({ target: lifecycleTarget(a.target), image: this.desiredImage(a) })),
      ),
    );
    const outcomes: Array<{ a: Action; error?: unknown }> = [];
    settled.forEach((s, i) => {
      for (const a of chunks[i]!) {
        if (s.status === 'rejected') {
          outcomes.push({ a, error: s.reason });
          continue;
        }
        const r = s.value.find((x) => targetKeyOfLifecycle(x.target) === targetKey(a.target));
        outcomes.push(r?.ok ? { a } : { a, error: commandFailure(r, a) });
      }
    });

    await mapSettled(outcomes, this.concurrency, async ({ a, error }) => {
      if (error !== undefined) return this.fail(a, error, sinkOf(a), started.get(a.id)!);
      try {
        if (a.steps.some((s) => s.resource === 'instance' && s.op === 'stop')) await stopTarget(ctx, lifecycleTarget(a.target));
        this.settle(a, { status: 'ok' }, sinkOf(a), started.get(a.id)!);
      } catch (e) {
        this.fail(a, e, sinkOf(a), started.get(a.id)!);
      }
    });
  }

  // -------------------------------------------------------------------------------------------

  /** Records the skip and returns true when the action must not start. */
  private skipIfNotRunnable(a: Action): boolean {
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

  private record(e: AuditEvent, sink: ResourceChange[]): void {
    sink.push({ kind: e.kind, id: e.resourceId, state: e.state, ...(e.workspaceId ? { workspaceId: e.workspaceId } : {}), ...(e.details ? { details: e.details } : {}) });
    this.ctx.audit(e);
  }

  private fail(a: Action, error: unknown, resources: ResourceChange[], started: number): void {
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

  private declaredTenant(a: Action): DesiredTenant {
    const t = this.tenants.get(a.target.orgId);
    if (!t) throw new InputError('the plan acts on a tenant the fleet repository does not declare', { operation: `apply ${a.kind}`, resource: a.id });
    return t;
  }

  private declaredWorkspace(a: Action, tenant: DesiredTenant): DesiredWorkspace {
    const w = tenant.workspaces.find((x) => x.spec.id === a.target.workspaceId);
    if (!w) throw new InputError('the plan acts on a workspace the fleet repository does not declare', { operation: `apply ${a.kind}`, resource: a.id });
    return w;
  }

  private desiredImage(a: Action): string {
    const tenant = this.declaredTenant(a);
    if (a.target.kind === 'tenant') return tenant.effective.image;
    const image = this.declaredWorkspace(a, tenant).effective.image;
    if (!image) throw new InputError('a workspace redeploy needs an image', { operation: 'apply redeploy', resource: a.id });
    return image;
  }
}

function lifecycleTarget(t: ActionTarget): LifecycleTarget {
  return t.kind === 'tenant' ? { role: 'tenant', orgId: t.orgId, slug: t.slug } : { role: 'workspace', orgId: t.orgId, slug: t.slug, workspaceId: t.workspaceId! };
}

function targetKeyOfLifecycle(t: LifecycleTarget): string {
  return t.role === 'tenant' ? `tenant:${t.orgId}` : `workspace:${t.orgId}:${t.workspaceId}`;
}

function auditKey(orgId: string, workspaceId: string | undefined): string {
  return `${orgId}\0${workspaceId ?? ''}`;
}

function commandFailure(r: RedeployResult | undefined, a: Action): CloudError {
  const what = r ? `${r.status}${r.statusDetails ? ` (${r.statusDetails})` : ''}${r.instanceId ? ` on ${r.instanceId}` : ''}` : 'no result';
  return new CloudError(`SSM command ${what}`, { operation: a.kind, resource: `${a.target.slug}${a.target.workspaceName ? `/${a.target.workspaceName}` : ''}` });
}

function describeAbort(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason.message : 'the run was interrupted';
}
