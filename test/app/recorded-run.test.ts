/**
 * The one way a mutating command records its run (src/app/recorded-run.ts), on a real SQLite
 * store: the outcome it finishes with, a refusal, an outside abort recorded as interrupted with
 * the lease released, a bug named by its run id, and a held lease refused before any work.
 */
import { hostname } from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Interruption } from '../../src/app/interrupt.js';
import type { ProgressEvent } from '../../src/app/ports.js';
import { recordedRun, statusOfCode } from '../../src/app/recorded-run.js';
import { ExitCode, GuardRefusal, InternalError, runIdOf } from '../../src/errors.js';
import { openSqliteStore, type SqliteAuditStore } from '../../src/store/index.js';

let store: SqliteAuditStore;
let events: ProgressEvent[];
beforeEach(() => {
  store = openSqliteStore(':memory:');
  events = [];
});
afterEach(async () => store.close());

const base = () => ({ store, command: 'test', environment: 'dev', gitCommit: 'abc123', lockTtlMs: 60_000, progress: (e: ProgressEvent) => events.push(e) });
const onlyRun = async () => {
  const { runs } = await store.history();
  expect(runs).toHaveLength(1);
  return runs[0]!;
};

describe('recordedRun', () => {
  it('runs the work under the lease and finishes the run with its outcome', async () => {
    let leaseDuringWork: unknown;
    const { result, runId } = await recordedRun({
      ...base(),
      work: async ({ runId }) => {
        leaseDuringWork = await store.currentLease('dev');
        return { code: ExitCode.partial, runId };
      },
      outcome: (r) => ({ code: r.code, status: statusOfCode(r.code), summary: { done: 3 } }),
    });
    expect(result.runId).toBe(runId);
    expect(leaseDuringWork).toMatchObject({ holder: { runId } });
    expect(await onlyRun()).toMatchObject({ runId, command: 'test', gitCommit: 'abc123', status: 'partial', exitCode: ExitCode.partial, summary: { done: 3 } });
    expect(await store.currentLease('dev')).toBeUndefined();
  });

  it('records a guard refusal as refused (exit 3), with the failure summary beside the error', async () => {
    await expect(
      recordedRun({
        ...base(),
        failureSummary: { dirtyTree: ['fleet.yaml'] },
        work: () => Promise.reject(new GuardRefusal('too many deletes', { operation: 'sweep' })),
        outcome: () => ({ code: 0, status: 'succeeded', summary: undefined }),
      }),
    ).rejects.toThrow(/too many deletes/);
    const run = await onlyRun();
    expect(run).toMatchObject({ status: 'refused', exitCode: ExitCode.refused, summary: { dirtyTree: ['fleet.yaml'] } });
    expect(String((run.summary as { error: string }).error)).toMatch(/too many deletes/);
  });

  it('records an outside abort as interrupted with its exit status, tells the sink, and releases the lease', async () => {
    const controller = new AbortController();
    const run = recordedRun({
      ...base(),
      signal: controller.signal,
      work: ({ signal }) =>
        new Promise<never>((_, reject) => {
          signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
          controller.abort(new Interruption('received SIGTERM', 143));
        }),
      outcome: () => ({ code: 0, status: 'succeeded', summary: undefined }),
    });
    await expect(run).rejects.toThrow(/received SIGTERM/);
    expect(await onlyRun()).toMatchObject({ status: 'interrupted', exitCode: 143, summary: { error: 'received SIGTERM' } });
    expect(events.some((e) => e.kind === 'interrupted')).toBe(true);
    expect(await store.currentLease('dev')).toBeUndefined();
  });

  it('names the run in a bug that escapes the work, and records it failed', async () => {
    const bug = new InternalError('an invariant broke', { operation: 'test' });
    await expect(recordedRun({ ...base(), work: () => Promise.reject(bug), outcome: () => ({ code: 0, status: 'succeeded', summary: undefined }) })).rejects.toBe(bug);
    const run = await onlyRun();
    expect(runIdOf(bug)).toBe(run.runId);
    expect(run).toMatchObject({ status: 'failed', exitCode: ExitCode.error });
  });

  it('is refused (exit 3, naming the holder) while another run holds the lease, and never starts the work', async () => {
    const holder = { host: hostname(), pid: process.pid, runId: 'someone-else', startedAt: new Date().toISOString() };
    expect((await store.acquireLease('dev', holder, 60_000)).acquired).toBe(true);
    let worked = false;
    const run = recordedRun({
      ...base(),
      work: () => {
        worked = true;
        return Promise.resolve(0);
      },
      outcome: () => ({ code: 0, status: 'succeeded', summary: undefined }),
    });
    await expect(run).rejects.toThrow(/someone-else/);
    expect(worked).toBe(false);
    const recorded = (await store.history()).runs.find((r) => r.command === 'test');
    expect(recorded).toMatchObject({ status: 'refused', exitCode: ExitCode.refused });
  });
});
