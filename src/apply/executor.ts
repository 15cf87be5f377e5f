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
 * 50 instances. Replacements ride the same waves (the planner gives them their tenant's wave):
 * every action of a target with a replacement runs in that wave, in plan order, so instances are
 * replaced canaries first and batch by batch, never all at once; an account move rides its wave the
 * same way (all the tenant's actions; the old account's delete only after the gate, and only when
 * everything at the new home succeeded, wave-groups.ts). After a wave, the optional health
 * gate (`settings.rollout.healthCheck`, health-gate.ts) polls each of its tenants; a tenant that
 * fails it has its wave actions failed, and keeps its old Image tag so the next plan redeploys it
 * again (the tags move after the gate, rollout.ts; a replaced instance's is cleared). A wave whose failure ratio exceeds
 * `rollout.maxFailureRatio` halts the rollout: later waves are skipped as `halted`. A wave's
 * results are reported (`onResult`) once its gate has passed or failed, so no result is told twice.
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
import {
  CHANGESET_FORMAT_VERSION,
  summarise,
  type ActionResult,
  type ChangeSet,
  type HealthCheckResult,
  type ResourceChange,
  type SkipReason,
  type WaveResult,
} from './changeset.js';
import { actIn, type ActContext, type AuditEvent } from './context.js';
import type { ExecuteOptions } from './execute-options.js';
import { healthGate } from './health-gate.js';
import { moveImageTags, runWave, unverifyReplacements, type TagLedger, type WaveLedger } from './rollout.js';
import { isMoveDelete, RolloutGroups } from './wave-groups.js';

export async function executePlan(plan: Plan, ctx: ActContext, opts: ExecuteOptions = {}): Promise<ChangeSet> {
  const now = opts.now ?? (() => new Date());
  const startedAt = now().toISOString();
  const run = new Execution(plan, ctx, opts);
  run.announceRollout();
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

class Execution implements WaveLedger, TagLedger {
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
    this.rolled = new RolloutGroups(plan.actions);
  }

  /** Replaced targets and moved tenants: all their actions run in the rollout wave (wave-groups.ts). */
  private readonly rolled: RolloutGroups;
  /** While a wave runs, its settled results are held here until its health gate is done. */
  private held: ActionResult[] | undefined;
  /** The wave running, for its progress events. */
  private wave = 0;

  async perTenantPhase(): Promise<void> {
    const byTenant = new Map<string, Action[]>();
    for (const a of this.plan.actions) {
      if (this.rolled.inRollout(a)) continue;
      byTenant.set(a.target.orgId, [...(byTenant.get(a.target.orgId) ?? []), a]);
    }
    await mapSettled([...byTenant.values()], this.concurrency, async (actions) => {
      for (const a of actions) await this.runOne(a);
    });
  }

  /** Tells progress output the rollout's waves before anything runs (for counts and an estimate). */
  announceRollout(): void {
    const byWave = this.rolled.byWave();
    if (byWave.size > 0)
      this.opts.onWave?.({ kind: 'rolloutPlanned', waves: [...byWave.keys()].sort((x, y) => x - y).map((wave) => ({ wave, actions: byWave.get(wave)!.length })) });
  }

  async rolloutPhase(): Promise<WaveResult[]> {
    const byWave = this.rolled.byWave();
    const order = [...byWave.keys()].sort((x, y) => x - y);
    const waves: WaveResult[] = [];
    let haltedBy: WaveResult | undefined;
    for (const wave of order) {
      const actions = byWave.get(wave)!;
      if (haltedBy) {
        const detail = `rollout halted: wave ${haltedBy.wave} failed ${haltedBy.failed} of ${haltedBy.actions} (ratio ${haltedBy.failureRatio.toFixed(2)} > ${this.maxFailureRatio})`;
        for (const a of actions) this.skip(a, 'halted', detail);
        continue;
      }
      const started = performance.now();
      this.opts.onWave?.({ kind: 'waveStarted', wave, actions: actions.length });
      this.held = [];
      this.wave = wave;
      await this.runGroups(actions.filter((a) => a.kind !== 'redeploy' && !isMoveDelete(a)));
      const deployed = await runWave(
        this,
        actions.filter((a) => a.kind === 'redeploy'),
      );
      const settled = this.heldCounts();
      // The gate sees a moved tenant at its new home; its old home goes only once that passed.
      const unhealthy = await healthGate(
        this,
        actions.filter((a) => !isMoveDelete(a)),
        this.plan.settings,
        this.opts.signal,
        (tenants) => this.opts.onWave?.({ kind: 'waveChecking', wave, ...settled, tenants }),
      );
      await moveImageTags(this, deployed);
      await unverifyReplacements(this, actions);
      await this.runGroups(this.keepOldHomes(actions));
      const held = this.held;
      this.held = undefined;
      for (const r of held) this.opts.onResult?.(this.results.get(r.actionId) ?? r);
      const failed = actions.filter((a) => this.results.get(a.id)!.status !== 'ok').length;
      const ratio = actions.length === 0 ? 0 : failed / actions.length;
      const result: WaveResult = {
        wave,
        actions: actions.length,
        failed,
        failureRatio: ratio,
        halted: ratio > this.maxFailureRatio,
        ...(unhealthy !== undefined ? { unhealthy } : {}),
      };
      waves.push(result);
      this.opts.onWave?.({ kind: 'waveFinished', result, durationMs: Math.round(performance.now() - started) });
      if (result.halted) haltedBy = result;
    }
    return waves;
  }

  /** A wave's replaced targets and moved tenants: each group's actions in plan order, groups in parallel. */
  private async runGroups(actions: Action[]): Promise<void> {
    await mapSettled(this.rolled.groups(actions), this.concurrency, async (group) => {
      for (const a of group) await this.runOne(a);
    });
  }

  /** A wave's move deletes to run: those of a tenant whose new home failed anything are skipped, keeping the old home. */
  private keepOldHomes(actions: Action[]): Action[] {
    return actions.filter(isMoveDelete).filter((d) => {
      const failed = actions.find((a) => a.target.orgId === d.target.orgId && !isMoveDelete(a) && this.results.get(a.id)?.status !== 'ok');
      if (failed) this.skip(d, 'dependency', `the new home in the ${d.move!.to} account did not come up (${failed.id}); the old home is kept`);
      return !failed;
    });
  }

  /** The health gate's verdict on an action that succeeded: failed, with what the check saw. */
  markUnhealthy(a: Action, check: HealthCheckResult, message: string): void {
    if (this.results.get(a.id)?.status === 'ok') this.failAfter(a, message, 'health check', { healthCheck: redactCheck(this.ctx, check) });
  }

  /** An action that succeeded fails after all (its health check, its Image tag); a failed one gains the error. */
  failAfter(a: Action, error: unknown, failedOperation: string, extra: Partial<ActionResult> = {}): void {
    const r = this.results.get(a.id);
    const message = this.ctx.redactor.redact(error instanceof Error ? error.message : String(error));
    if (r?.status === 'failed') this.results.set(a.id, { ...r, error: `${r.error ?? ''}; then ${failedOperation}: ${message}` });
    if (!r || r.status !== 'ok') return;
    this.failedTargets.add(targetKey(a.target));
    this.results.set(a.id, { ...r, ...extra, status: 'failed', error: message, failedOperation });
  }

  markHealthy(a: Action, check: HealthCheckResult): void {
    const r = this.results.get(a.id);
    if (r && r.status === 'ok') this.results.set(a.id, { ...r, healthCheck: redactCheck(this.ctx, check) });
  }

  resultOf(a: Action): ActionResult | undefined {
    return this.results.get(a.id);
  }

  private async runOne(a: Action): Promise<void> {
    if (this.skipIfNotRunnable(a)) return;
    const resources: ResourceChange[] = [];
    const started = performance.now();
    try {
      // Each action acts in its intent's account: that account's clients, budgets, VPC and wiring.
      const ctx: ActContext = { ...actIn(this.ctx, a.intent.account), audit: (e) => this.record(e, resources) };
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
      ...(a.account !== undefined ? { account: a.account } : {}),
      ...(a.move !== undefined ? { move: { ...a.move } } : {}),
      ...outcome,
      resources,
      durationMs: Math.round(performance.now() - started),
    };
    this.results.set(a.id, result);
    if (this.held) {
      this.held.push(result);
      this.opts.onWave?.({ kind: 'waveProgress', wave: this.wave, ...this.heldCounts() });
    } else this.opts.onResult?.(result);
  }

  private heldCounts(): { settled: number; failed: number } {
    return { settled: this.held?.length ?? 0, failed: this.held?.filter((r) => r.status !== 'ok').length ?? 0 };
  }
}

function redactCheck(ctx: ActContext, c: HealthCheckResult): HealthCheckResult {
  return { ...c, url: ctx.redactor.redact(c.url), ...(c.error !== undefined ? { error: ctx.redactor.redact(c.error) } : {}) };
}

function describeAbort(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason.message : 'the run was interrupted';
}
