import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExitCode, GuardRefusal } from '../../src/errors.js';
import { Redactor } from '../../src/redact.js';
import { currentHolder, describeLease, holderProcessGone, withLease } from '../../src/store/lease.js';
import type { LeaseHolder, LeaseStore } from '../../src/store/model.js';
import { openSqliteStore, type SqliteAuditStore } from '../../src/store/sqlite.js';

const CHILD = fileURLToPath(new URL('./lease-child.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../..', import.meta.url));

let dir: string;
let dbPath: string;
let now: number;
let store: SqliteAuditStore;
const children: ChildProcess[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tenantform-lease-'));
  dbPath = join(dir, 'state.db');
  now = Date.parse('2026-03-01T10:00:00Z');
  store = openSqliteStore(dbPath, { now: () => now, redactor: new Redactor() });
});

afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const alice: LeaseHolder = { host: 'host-a', pid: 101, runId: 'run-alice', startedAt: '2026-03-01T09:59:00.000Z' };
const bob: LeaseHolder = { host: 'host-b', pid: 202, runId: 'run-bob', startedAt: '2026-03-01T10:00:00.000Z' };

describe('lease (one process)', () => {
  it('gives a free lease to the first holder and names it to the next', async () => {
    const first = await store.acquireLease('dev', alice, 30_000);
    expect(first).toMatchObject({ acquired: true, reclaimed: undefined, lease: { environment: 'dev', holder: alice, expiresAt: now + 30_000 } });
    const second = await store.acquireLease('dev', bob, 30_000);
    expect(second).toMatchObject({ acquired: false, current: { holder: alice } });
    // Other environments are independent.
    expect((await store.acquireLease('prod', bob, 30_000)).acquired).toBe(true);
  });

  it('lets the holder re-acquire (keeping its acquisition time) and renew; others cannot renew or release it', async () => {
    await store.acquireLease('dev', alice, 30_000);
    now += 10_000;
    const again = await store.acquireLease('dev', alice, 30_000);
    expect(again).toMatchObject({ acquired: true, lease: { acquiredAt: now - 10_000, renewedAt: now, expiresAt: now + 30_000 } });
    expect(await store.renewLease('dev', bob, 30_000)).toBe(false);
    expect(await store.releaseLease('dev', bob)).toBe(false);
    now += 25_000;
    expect(await store.renewLease('dev', alice, 30_000)).toBe(true);
    expect((await store.currentLease('dev'))?.expiresAt).toBe(now + 30_000);
    // Matched on host, pid and run id together.
    expect(await store.renewLease('dev', { ...alice, pid: 999 }, 30_000)).toBe(false);
  });

  it('is reclaimable once expired, and the old holder then learns it lost the lease', async () => {
    await store.acquireLease('dev', alice, 30_000);
    now += 29_999;
    expect((await store.acquireLease('dev', bob, 30_000)).acquired).toBe(false);
    now += 1;
    const taken = await store.acquireLease('dev', bob, 30_000);
    expect(taken).toMatchObject({ acquired: true, reclaimed: { holder: alice }, lease: { holder: bob } });
    expect(await store.renewLease('dev', alice, 30_000)).toBe(false);
    expect(await store.releaseLease('dev', alice)).toBe(false);
    expect((await store.currentLease('dev'))?.holder).toEqual(bob);
  });

  it('marks the run of the holder whose expired lease is reclaimed as abandoned: when, by which run, why', async () => {
    await store.startRun({ runId: 'run-alice', command: 'apply', environment: 'dev', host: 'host-a', pid: 101 });
    await store.startRun({ runId: 'run-bob', command: 'apply', environment: 'dev', host: 'host-b', pid: 202 });
    await store.acquireLease('dev', alice, 30_000);
    now += 30_000;
    const taken = await store.acquireLease('dev', bob, 30_000);
    expect(taken).toMatchObject({ acquired: true, reclaimed: { holder: alice, reason: 'expired' } });
    const runs = new Map((await store.history()).runs.map((r) => [r.runId, r]));
    expect(runs.get('run-alice')).toMatchObject({
      status: 'abandoned',
      finishedAt: undefined,
      exitCode: undefined,
      abandoned: { at: new Date(now).toISOString(), byRunId: 'run-bob', reason: 'expired' },
    });
    expect(runs.get('run-bob')).toMatchObject({ status: 'running', abandoned: undefined });
  });

  it('keeps what a run recorded of its own end when its lease is reclaimed after all', async () => {
    await store.startRun({ runId: 'run-alice', command: 'apply', environment: 'dev', host: 'host-a', pid: 101 });
    await store.acquireLease('dev', alice, 30_000);
    await store.finishRun({ runId: 'run-alice', status: 'interrupted', exitCode: 130 });
    now += 30_000;
    expect((await store.acquireLease('dev', bob, 30_000)).acquired).toBe(true);
    expect((await store.history()).runs[0]).toMatchObject({ runId: 'run-alice', status: 'interrupted', exitCode: 130, abandoned: undefined });
  });

  it('reclaims a live lease at once when asked and the holder is gone; otherwise not before expiry', async () => {
    await store.startRun({ runId: 'run-alice', command: 'apply', environment: 'dev', host: 'host-a', pid: 101 });
    await store.acquireLease('dev', alice, 600_000);
    const asked: LeaseHolder[] = [];
    expect(await store.acquireLease('dev', bob, 30_000, { holderGone: (h) => (asked.push(h), false) })).toMatchObject({ acquired: false, current: { holder: alice } });
    expect(asked).toEqual([alice]);
    const taken = await store.acquireLease('dev', bob, 30_000, { holderGone: (h) => h.runId === 'run-alice' });
    expect(taken).toMatchObject({ acquired: true, reclaimed: { holder: alice, reason: 'holderGone' }, lease: { holder: bob } });
    expect((await store.history()).runs[0]).toMatchObject({ runId: 'run-alice', status: 'abandoned', abandoned: { byRunId: 'run-bob', reason: 'holderGone' } });
    // The new holder's own lease is never "gone" to itself: re-acquiring keeps it.
    expect(await store.acquireLease('dev', bob, 30_000, { holderGone: () => true })).toMatchObject({ acquired: true, reclaimed: undefined });
  });

  it('frees the lease on release', async () => {
    await store.acquireLease('dev', alice, 30_000);
    expect(await store.releaseLease('dev', alice)).toBe(true);
    expect(await store.currentLease('dev')).toBeUndefined();
    expect((await store.acquireLease('dev', bob, 30_000)).acquired).toBe(true);
  });
});

describe('withLease', () => {
  it('refuses with exit 3, naming host, pid, run id and start time of the holder', async () => {
    await store.acquireLease('dev', alice, 30_000);
    const err = await withLease(store, 'dev', bob, async () => 'ran').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GuardRefusal);
    expect((err as GuardRefusal).exitCode).toBe(ExitCode.refused);
    const msg = (err as Error).message;
    expect(msg).toMatch(/^lock environment dev: held by run run-alice/);
    for (const part of ['host-a', 'pid 101', '2026-03-01T09:59:00.000Z', 'lease expires 2026-03-01T10:00:30.000Z']) expect(msg).toContain(part);
  });

  it('releases after the task, whether it succeeds or throws', async () => {
    expect(await withLease(store, 'dev', alice, async () => 'done')).toBe('done');
    expect(await store.currentLease('dev')).toBeUndefined();
    const boom = new Error('task failed');
    await expect(
      withLease(store, 'dev', alice, async () => {
        expect((await store.currentLease('dev'))?.holder).toEqual(alice);
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(await store.currentLease('dev')).toBeUndefined();
  });

  it('renews while the task runs', async () => {
    let renewals = 0;
    let sawRenewal!: () => void;
    const renewed = new Promise<void>((r) => (sawRenewal = r));
    const counting: LeaseStore = {
      acquireLease: (...a) => store.acquireLease(...a),
      currentLease: (...a) => store.currentLease(...a),
      releaseLease: (...a) => store.releaseLease(...a),
      renewLease: async (...a) => {
        renewals++;
        now += 1000;
        const held = await store.renewLease(...a);
        if (renewals === 2) sawRenewal();
        return held;
      },
    };
    await withLease(
      counting,
      'dev',
      alice,
      async () => {
        await renewed;
        expect((await store.currentLease('dev'))?.expiresAt).toBe(now + 30_000);
      },
      { ttlMs: 30_000, renewEveryMs: 2 },
    );
    expect(renewals).toBeGreaterThanOrEqual(2);
  });

  it('aborts the task’s signal and reports who took the lease when a renewal finds it lost', async () => {
    let lostTo: LeaseHolder | undefined;
    const result = await withLease(
      store,
      'dev',
      alice,
      async (signal) => {
        now += 31_000;
        await store.acquireLease('dev', bob, 30_000);
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
        return (signal.reason as Error).message;
      },
      { ttlMs: 30_000, renewEveryMs: 2, onLost: (current) => (lostTo = current?.holder) },
    );
    expect(result).toMatch(/^renew lock environment dev: lease lost to run run-bob/);
    expect(lostTo).toEqual(bob);
    // Releasing what it no longer holds leaves the new holder alone.
    expect((await store.currentLease('dev'))?.holder).toEqual(bob);
  });

  it('on the caller’s abort: aborts the task’s signal naming the environment, runs onAbort while still holding, then releases and says so; no signal handler of its own', async () => {
    const outside = new AbortController();
    const listeners = process.listenerCount('SIGINT') + process.listenerCount('SIGTERM');
    const order: string[] = [];
    let handled!: () => void;
    const wasHandled = new Promise<void>((r) => (handled = r));
    const result = await withLease(
      store,
      'dev',
      alice,
      async (signal) => {
        expect(process.listenerCount('SIGINT') + process.listenerCount('SIGTERM')).toBe(listeners);
        outside.abort(new Error('interrupted by SIGINT'));
        await wasHandled;
        order.push(`lease after abort: ${(await store.currentLease('dev'))?.holder.runId ?? 'none'}`);
        return (signal.reason as Error).message;
      },
      {
        signal: outside.signal,
        onAbort: async (reason) => order.push(`onAbort ${(reason as Error).message}, lease ${(await store.currentLease('dev'))?.holder.runId ?? 'none'}`),
        onAbortHandled: () => {
          order.push('handled');
          handled();
        },
      },
    );
    expect(result).toBe('hold lock environment dev: interrupted by SIGINT');
    expect(order).toEqual(['onAbort interrupted by SIGINT, lease run-alice', 'handled', 'lease after abort: none']);
  });

  it('knows a holder dead only on this host, by a pid no process has', async () => {
    const here = hostname();
    expect(holderProcessGone({ host: here, pid: process.pid, runId: 'r', startedAt: '' })).toBe(false);
    // pid 1 exists (and may not be signalled by us: EPERM still means alive).
    expect(holderProcessGone({ host: here, pid: 1, runId: 'r', startedAt: '' })).toBe(false);
    // 0 and negative pids name process groups.
    expect(holderProcessGone({ host: here, pid: 0, runId: 'r', startedAt: '' })).toBe(false);
    expect(holderProcessGone({ host: here, pid: -1, runId: 'r', startedAt: '' })).toBe(false);
    const dead = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => dead.once('exit', resolve));
    expect(holderProcessGone({ host: here, pid: dead.pid!, runId: 'r', startedAt: '' })).toBe(true);
    expect(holderProcessGone({ host: `${here}-elsewhere`, pid: dead.pid!, runId: 'r', startedAt: '' })).toBe(false);
  });

  it('describes this process as a holder', () => {
    const h = currentHolder('run-x', new Date('2026-01-02T03:04:05Z'));
    expect(h).toMatchObject({ pid: process.pid, runId: 'run-x', startedAt: '2026-01-02T03:04:05.000Z' });
    expect(h.host.length).toBeGreaterThan(0);
    expect(describeLease({ environment: 'dev', holder: h, acquiredAt: 0, renewedAt: 0, expiresAt: 0 })).toContain(`pid ${process.pid} on ${h.host}`);
  });
});

describe('lease across processes', () => {
  function child(...args: string[]): { proc: ChildProcess; lines: AsyncIterator<string> } {
    const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { cwd: REPO, stdio: ['pipe', 'pipe', 'inherit'] });
    children.push(proc);
    return { proc, lines: createInterface({ input: proc.stdout! })[Symbol.asyncIterator]() };
  }
  async function next(c: { lines: AsyncIterator<string> }): Promise<Record<string, unknown>> {
    const { value, done } = await c.lines.next();
    if (done) throw new Error('child exited before answering');
    return JSON.parse(value) as Record<string, unknown>;
  }
  function exited(proc: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve({ code: proc.exitCode, signal: proc.signalCode });
    return new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  }

  it('gives the lease to exactly one of several racing processes', async () => {
    // A fresh file, so the racers also race to create and migrate it.
    const fresh = join(dir, 'race.db');
    const racers = ['r1', 'r2', 'r3', 'r4'].map((id) => child('race', fresh, 'prod', id));
    for (const r of racers) expect(await next(r)).toEqual({ ready: true });
    const startAt = Date.now() + 200;
    for (const r of racers) r.proc.stdin!.write(`go ${startAt}\n`);
    const results = (await Promise.all(racers.map(next))) as { runId: string; won: string[] }[];
    const wins = results.flatMap((r) => r.won.map((env) => ({ env, runId: r.runId })));
    // Every environment has exactly one winner, and the database agrees with each.
    expect(wins.map((w) => w.env).sort()).toEqual(Array.from({ length: 50 }, (_, i) => `prod-${i}`).sort());
    const observer = openSqliteStore(fresh);
    try {
      for (const w of wins) expect((await observer.currentLease(w.env))?.holder.runId).toBe(w.runId);
    } finally {
      await observer.close();
    }
  });

  it('releases the lease when the holder is stopped with SIGTERM, and the signal still ends it', async () => {
    const holder = child('hold', dbPath, 'dev', 'run-held');
    expect(await next(holder)).toEqual({ holding: true });
    expect((await store.currentLease('dev'))?.holder.runId).toBe('run-held');
    expect((await store.acquireLease('dev', bob, 30_000)).acquired).toBe(false);
    holder.proc.kill('SIGTERM');
    // Killed by the signal, or (under tsx, whose own handler catches the re-raised signal) exit 128+15.
    const how = await exited(holder.proc);
    expect(how.signal === 'SIGTERM' || how.code === 143).toBe(true);
    expect(await store.currentLease('dev')).toBeUndefined();
  });

  it('reclaims at once the lease of a SIGKILLed holder on this host, however long its TTL, and marks its run abandoned', async () => {
    const killed = child('run', dbPath, 'dev', 'run-killed', 'here', String(600_000));
    expect(await next(killed)).toEqual({ holding: true });
    killed.proc.kill('SIGKILL');
    expect(await exited(killed.proc)).toMatchObject({ signal: 'SIGKILL' });
    now = Date.now();
    const lease = await store.currentLease('dev');
    expect(lease).toMatchObject({ holder: { runId: 'run-killed', pid: killed.proc.pid, host: hostname() } });
    expect(lease!.expiresAt).toBeGreaterThan(now + 500_000);

    const me = currentHolder('run-next');
    await store.startRun({ runId: 'run-next', command: 'apply', environment: 'dev', host: me.host, pid: me.pid });
    let reclaimed: unknown;
    const ran = await withLease(store, 'dev', me, async () => 'ran', { onReclaimed: (prev, reason) => (reclaimed = { runId: prev.holder.runId, reason }) });
    expect(ran).toBe('ran');
    expect(reclaimed).toEqual({ runId: 'run-killed', reason: 'holderGone' });
    const dead = (await store.history()).runs.find((r) => r.runId === 'run-killed');
    expect(dead).toMatchObject({ status: 'abandoned', exitCode: undefined, abandoned: { byRunId: 'run-next', reason: 'holderGone', at: new Date(now).toISOString() } });
  });

  it('waits out the TTL of a SIGKILLed holder on another host (its pid means nothing here), then marks its run abandoned', async () => {
    const killed = child('run', dbPath, 'dev', 'run-elsewhere', 'other', String(60_000));
    expect(await next(killed)).toEqual({ holding: true });
    killed.proc.kill('SIGKILL');
    await exited(killed.proc);
    now = Date.now();
    const me = currentHolder('run-next');
    await store.startRun({ runId: 'run-next', command: 'apply', environment: 'dev', host: me.host, pid: me.pid });
    await expect(withLease(store, 'dev', me, async () => 'ran')).rejects.toThrow(/held by run run-elsewhere \(pid \d+ on other-host/);
    expect((await store.history()).runs.find((r) => r.runId === 'run-elsewhere')?.status).toBe('running');
    now += 60_001;
    expect(await withLease(store, 'dev', me, async () => 'ran')).toBe('ran');
    expect((await store.history()).runs.find((r) => r.runId === 'run-elsewhere')).toMatchObject({
      status: 'abandoned',
      abandoned: { byRunId: 'run-next', reason: 'expired' },
    });
  });

  it('lets the next run reclaim a crashed holder’s lease once it expires', async () => {
    const crashed = child('crash', dbPath, 'dev', 'run-crashed');
    expect(await next(crashed)).toEqual({ acquired: true });
    expect(await exited(crashed.proc)).toMatchObject({ code: 0 });
    now = Date.now();
    const refused = await store.acquireLease('dev', bob, 30_000);
    expect(refused).toMatchObject({ acquired: false, current: { holder: { runId: 'run-crashed', host: 'child-host' } } });
    now += 60_001;
    const reclaimed = await store.acquireLease('dev', bob, 30_000);
    expect(reclaimed).toMatchObject({ acquired: true, reclaimed: { holder: { runId: 'run-crashed' } } });
  });
});
