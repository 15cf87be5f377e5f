/**
 * One rollout wave of redeploys: start what the plan says must be started, one SSM command per
 * up to 50 instances (MAX_INSTANCES_PER_SEND), then stop what must end stopped. Each action's
 * result is settled through the executor's ledger; the wave's failure ratio is the executor's.
 */
import { performance } from 'node:perf_hooks';
import { targetKey } from '../plan/diff.js';
import type { Action } from '../plan/model.js';
import { mapSettled } from '../rate/index.js';
import type { ResourceChange } from './changeset.js';
import { MAX_INSTANCES_PER_SEND } from './command.js';
import { actIn, type ActContext, type AuditEvent } from './context.js';
import { commandFailure, lifecycleTarget, redeployImage } from './act.js';
import { redeploy, startTarget, stopTarget, type LifecycleTarget } from './lifecycle.js';

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

export async function runWave(run: WaveLedger, actions: Action[]): Promise<void> {
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
  for (const account of [...new Set(ready.map((a) => a.intent.account ?? 'main'))]) {
    const here = ready.filter((a) => (a.intent.account ?? 'main') === account);
    for (let i = 0; i < here.length; i += MAX_INSTANCES_PER_SEND) chunks.push(here.slice(i, i + MAX_INSTANCES_PER_SEND));
  }
  const settled = await mapSettled(chunks, run.concurrency, async (chunk) =>
    redeploy(
      ctxOf(chunk[0]!),
      chunk.map((a) => ({ target: lifecycleTarget(a.target), image: redeployImage(a) })),
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

  await mapSettled(outcomes, run.concurrency, async ({ a, error }) => {
    if (error !== undefined) return run.fail(a, error, sinkOf(a), started.get(a.id)!);
    try {
      if (a.steps.some((s) => s.resource === 'instance' && s.op === 'stop')) await stopTarget(ctxOf(a), lifecycleTarget(a.target));
      run.succeed(a, sinkOf(a), started.get(a.id)!);
    } catch (e) {
      run.fail(a, e, sinkOf(a), started.get(a.id)!);
    }
  });
}

function targetKeyOfLifecycle(t: LifecycleTarget): string {
  return t.role === 'tenant' ? `tenant:${t.orgId}` : `workspace:${t.orgId}:${t.workspaceId}`;
}

function auditKey(orgId: string, workspaceId: string | undefined): string {
  return `${orgId}\0${workspaceId ?? ''}`;
}
