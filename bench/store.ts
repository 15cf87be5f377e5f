/**
 * `npm run bench:store` — the audit store on SQLite and on PostgreSQL in the same run:
 *
 * (a) events written per second: BENCH_EVENTS (default 100,000) resource events recorded one
 *     after another, as apply's AuditRecorder writes them (each awaited, one per row), spread
 *     over 100 runs and 500 tenants;
 * (b) `history` latency on those events: the default view (50 runs, 50 events, newest first) and
 *     one tenant's (`history --tenant`), median and p95 of 50 calls each, through the store
 *     interface `tenantform history` uses.
 *
 * SQLite is a file in a temp dir (WAL, synchronous=NORMAL, as shipped). PostgreSQL is a throwaway
 * local cluster started with the tests' harness (test/support/postgres.ts: fsync off, so this
 * measures tenantform's statements and round trips, not a disk), reached over TCP on 127.0.0.1.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { AuditStore } from '../src/store/model.js';
import { openAuditStore } from '../src/store/open.js';
import { postgresServer } from '../test/support/postgres.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);
const RUNS = 100;
const TENANTS = 500;
const SAMPLES = 50;

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

async function timed(fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}

async function bench(name: string, store: AuditStore): Promise<Record<string, string | number>> {
  const perRun = Math.ceil(EVENTS / RUNS);
  const t0 = performance.now();
  let written = 0;
  for (let r = 0; r < RUNS && written < EVENTS; r++) {
    const runId = `run-${r}`;
    await store.startRun({ runId, command: 'apply', environment: 'dev', host: 'bench', pid: process.pid });
    for (let i = 0; i < perRun && written < EVENTS; i++, written++) {
      const t = written % TENANTS;
      await store.recordResource({
        runId,
        environment: 'dev',
        kind: i % 2 ? 'instance' : 'secret',
        resourceId: `res-${written}`,
        orgId: `org-${t}`,
        slug: `tenant-${t}`,
        state: 'created',
        details: { event: 'created', name: `tenant-${t}-ws` },
      });
    }
    await store.finishRun({ runId, status: 'succeeded', exitCode: 0 });
  }
  const writeS = (performance.now() - t0) / 1000;
  const all = await timed(() => store.history({ limit: 50 }));
  const one = await timed(() => store.history({ slug: 'tenant-123', limit: 50 }));
  return {
    store: name,
    events: written,
    'events/s': Math.round(written / writeS),
    'history p50 ms': +quantile(all, 0.5).toFixed(2),
    'history p95 ms': +quantile(all, 0.95).toFixed(2),
    'history --tenant p50 ms': +quantile(one, 0.5).toFixed(2),
    'history --tenant p95 ms': +quantile(one, 0.95).toFixed(2),
  };
}

const dir = mkdtempSync(join(tmpdir(), 'tenantform-bench-store-'));
const rows: Array<Record<string, string | number>> = [];
try {
  const sqlite = await openAuditStore(join(dir, 'state.db'));
  rows.push(await bench('SQLite', sqlite));
  await sqlite.close();

  const server = await postgresServer();
  const url = await server.createDatabase('bench');
  const pgStore = await openAuditStore(url);
  rows.push(await bench('PostgreSQL', pgStore));
  await pgStore.close();
  await server.stop();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.table(rows);
