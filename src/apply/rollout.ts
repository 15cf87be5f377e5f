/**
 * One rollout wave of redeploys: start what the plan says must be started, one SSM command per
 * up to 50 instances (MAX_INSTANCES_PER_SEND), then stop what must end stopped. Each action's
 * result is settled through the executor's ledger; the wave's failure ratio is the executor's.
 * The Image tag (what the next plan compares) moves only after the wave's health gate
 * (moveImageTags): a tenant whose check fails keeps its old tag, so the next plan redeploys it again;
 * a replaced instance of such a tenant has its tag cleared for the same reason (unverifyReplacements).
 */
import { accountOf } from '../accounts.js';
import { performance } from 'node:perf_hooks';
import { targetKey } from '../plan/diff.js';
import type { Action } from '../plan/model.js';
import { mapSettled } from '../rate/index.js';
import type { ActionResult, ResourceChange } from './changeset.js';
import { MAX_INSTANCES_PER_SEND } from './command.js';
import { actIn, type ActContext, type AuditEvent } from './context.js';
import { commandFailure, lifecycleTarget, redeployImage } from './act.js';
import { moveImageTag, redeploy, startTarget, stopTarget, type LifecycleTarget } from './lifecycle.js';

/** What a wave needs from the executor: its context, its concurrency, and how results are kept. */
export interface WaveLedger {
  readonly ctx: ActContext;
  readonly concurrency: number;
  /** Records the skip and returns true when the action must not start. */
  skipIfNotRunnable(a: Action): boolean;
  record(e: AuditEvent, sink: ResourceChange[]): void;
  fail(a: Action, error: unknown, resources: ResourceChange[], started: number): void;
  succeed(a: Action, resources: ResourceChange[], started: number): void;
}

/** A redeploy whose command succeeded: its instance and image, its Image tag not moved yet. */
export interface Deployed {
  a: Action;
  instanceId: string;
  image: string;
}

/** Runs the wave's redeploys; returns those whose command succeeded, for moveImageTags. */
export async function runWave(run: WaveLedger, actions: Action[]): Promise<Deployed[]> {
  const runnable = actions.filter((a) => !run.skipIfNotRunnable(a));
  const sinks = new Map<string, ResourceChange[]>();
  const started = new Map<string, number>();
  for (const a of runnable) {
    sinks.set(auditKey(a.target.orgId, a.target.workspaceId), []);
    started.set(a.id, performance.now());
  }
  // One context for the whole wave: its SSM commands cover many targets, so events are routed by target.
  const ctx: ActContext = { ...run.ctx, audit: (e) => run.record(e, sinks.get(auditKey(e.orgId, e.workspaceId)) ?? []) };
  const sinkOf = (a: Action) => sinks.get(auditKey(a.target.orgId, a.target.workspaceId))!;

  // Each action in its account's context: SSM commands never mix accounts.
  const ctxOf = (a: Action): ActContext => actIn(ctx, a.intent.account);
  const needsStart = runnable.filter((a) => a.steps.some((s) => s.resource === 'instance' && s.op === 'start'));
  const startFailed = new Set<string>();
  const starts = await mapSettled(needsStart, run.concurrency, async (a) => startTarget(ctxOf(a), lifecycleTarget(a.target)));
  starts.forEach((s, i) => {
    if (s.status === 'rejected') {
      const a = needsStart[i]!;
      startFailed.add(a.id);
      run.fail(a, s.reason, sinkOf(a), started.get(a.id)!);
    }
  });

  const ready = runnable.filter((a) => !startFailed.has(a.id));
  const chunks: Action[][] = [];
  for (const account of [...new Set(ready.map((a) => accountOf(a.intent)))]) {
    const here = ready.filter((a) => accountOf(a.intent) === account);
    for (let i = 0; i < here.length; i += MAX_INSTANCES_PER_SEND) chunks.push(here.slice(i, i + MAX_INSTANCES_PER_SEND));
  }
  const settled = await mapSettled(chunks, run.concurrency, async (chunk) =>
    redeploy(
      ctxOf(chunk[0]!),
      chunk.map((a) => ({ target: lifecycleTarget(a.target), image: redeployImage(a) })),
      { tagImage: false },
    ),
  );
  const outcomes: Array<{ a: Action; error?: unknown }> = [];
  const deployed: Deployed[] = [];
  settled.forEach((s, i) => {
    for (const a of chunks[i]!) {
      if (s.status === 'rejected') {
        outcomes.push({ a, error: s.reason });
        continue;
      }
      const r = s.value.find((x) => targetKeyOfLifecycle(x.target) === targetKey(a.target));
      outcomes.push(r?.ok ? { a } : { a, error: commandFailure(r, a) });
      if (r?.ok) deployed.push({ a, instanceId: r.instanceId, image: r.image });
    }
  });

  await mapSettled(outcomes, run.concurrency, async ({ a, error }) => {
    if (error !== undefined) return run.fail(a, error, sinkOf(a), started.get(a.id)!);
    try {
      if (a.steps.some((s) => s.resource === 'instance' && s.op === 'stop')) await stopTarget(ctxOf(a), lifecycleTarget(a.target));
      run.succeed(a, sinkOf(a), started.get(a.id)!);
    } catch (e) {
      run.fail(a, e, sinkOf(a), started.get(a.id)!);
    }
  });
  return deployed;
}

/** What moving the Image tags needs from the executor: the results so far, and a late failure. */
export interface TagLedger {
  readonly ctx: ActContext;
  readonly concurrency: number;
  resultOf(a: Action): Pick<ActionResult, 'status' | 'failedOperation' | 'resources'> | undefined;
  /** Turns an action that succeeded into a failure (its target counts as failed); a failed one gains the error. */
  failAfter(a: Action, error: unknown, failedOperation: string): void;
}

/**
 * After the wave's health gate: the Image tag moves on the instances whose redeploy is still ok,
 * one CreateTags per image for up to 50 instances. A tag that cannot move fails its actions: the
 * next plan redeploys them again, which is safe (the redeploy script is idempotent).
 */
export async function moveImageTags(run: TagLedger, deployed: Deployed[]): Promise<void> {
  // One CreateTags per account and image: an instance is tagged where it lives.
  const byImage = new Map<string, Deployed[]>();
  for (const d of deployed) {
    if (run.resultOf(d.a)?.status !== 'ok') continue;
    const key = `${accountOf(d.a.intent)}\0${d.image}`;
    byImage.set(key, [...(byImage.get(key) ?? []), d]);
  }
  const chunks: Deployed[][] = [];
  for (const group of byImage.values()) for (let i = 0; i < group.length; i += MAX_INSTANCES_PER_SEND) chunks.push(group.slice(i, i + MAX_INSTANCES_PER_SEND));
  const settled = await mapSettled(chunks, run.concurrency, (chunk) =>
    moveImageTag(
      actIn(run.ctx, chunk[0]!.a.intent.account),
      chunk.map((d) => d.instanceId),
      chunk[0]!.image,
    ),
  );
  settled.forEach((s, i) => {
    if (s.status === 'rejected') for (const d of chunks[i]!) run.failAfter(d.a, s.reason, 'tag image');
  });
}

/**
 * A replacement launches its instance with the declared image in its Image tag. When its tenant
 * then fails the health check, that tag is cleared ('' reads as "the image it runs is unknown"),
 * so the next plan redeploys it, as it retries a redeploy whose check failed. So is a moved tenant's
 * new home (its create or repair launched it): the next plan redeploys it there, checked by the
 * gate again, before its old home is deleted.
 */
export async function unverifyReplacements(run: TagLedger, actions: Action[]): Promise<void> {
  const launched = actions
    .filter((a) => (a.replacement && a.kind === 'create') || (a.move && (a.kind === 'create' || a.kind === 'repair')))
    .map((a) => ({ a, r: run.resultOf(a) }))
    .filter(({ r }) => r?.status === 'failed' && r.failedOperation === 'health check')
    .map(({ a, r }) => ({ a, ids: r!.resources.filter((c) => c.kind === 'instance' && c.state === 'created').map((c) => c.id) }))
    .filter(({ ids }) => ids.length > 0);
  await mapSettled(launched, run.concurrency, async ({ a, ids }) => {
    try {
      await moveImageTag(actIn(run.ctx, a.intent.account), ids, '');
    } catch (e) {
      run.failAfter(a, e, 'clear Image tag');
    }
  });
}

function targetKeyOfLifecycle(t: LifecycleTarget): string {
  return t.role === 'tenant' ? `tenant:${t.orgId}` : `workspace:${t.orgId}:${t.workspaceId}`;
}

function auditKey(orgId: string, workspaceId: string | undefined): string {
  return `${orgId}\0${workspaceId ?? ''}`;
}
