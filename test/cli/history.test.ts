import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { memoryIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import type { History } from '../../src/store/model.js';
import { openSqliteStore } from '../../src/store/sqlite.js';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tenantform-history-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Two runs: run-1 created acme's instance and globex's group; run-2 deleted acme's instance. */
async function seed(path: string): Promise<void> {
  let now = Date.parse('2026-03-01T10:00:00Z');
  const store = openSqliteStore(path, { now: () => now });
  try {
    await store.startRun({ runId: 'run-1', command: 'apply', environment: 'dev', gitCommit: '0123456789abcdef0123', host: 'ci-1', pid: 7 });
    await store.recordResource({ runId: 'run-1', environment: 'dev', kind: 'instance', resourceId: 'i-acme1', orgId: 'org-a', slug: 'acme', state: 'created' });
    await store.recordResource({ runId: 'run-1', environment: 'dev', kind: 'securityGroup', resourceId: 'sg-globex', orgId: 'org-g', slug: 'globex', state: 'created' });
    await store.finishRun({ runId: 'run-1', status: 'succeeded', exitCode: 0 });
    now += 60_000;
    await store.startRun({ runId: 'run-2', command: 'apply', environment: 'dev', host: 'ci-2', pid: 8 });
    await store.recordResource({
      runId: 'run-2',
      environment: 'dev',
      kind: 'instance',
      resourceId: 'i-acme1',
      orgId: 'org-a',
      slug: 'acme',
      state: 'deleted',
      workspaceId: 'ws-1',
    });
  } finally {
    await store.close();
  }
}

describe('tenantform history', () => {
  it('prints runs and resource events as tables, newest first', async () => {
    const db = join(dir, 'state.db');
    await seed(db);
    const io = memoryIo();
    expect(await main(['history', '--db', db], io)).toBe(0);
    const out = io.out.join('');
    expect(out).toMatch(/^Runs \(newest first\)\n {2}STARTED +RUN +COMMAND +ENV +STATUS +EXIT +COMMIT +HOST\n/);
    expect(out.indexOf('run-2')).toBeLessThan(out.indexOf('run-1'));
    expect(out).toMatch(/run-1 +apply +dev +succeeded +0 +0123456789ab +ci-1:7/);
    expect(out).toMatch(/run-2 +apply +dev +running +- +- +ci-2:8/);
    expect(out).toContain('Resource events (newest first)');
    expect(out).toMatch(/2026-03-01T10:01:00.000Z +deleted +instance +i-acme1 +acme +org-a +ws-1 +run-2/);
    expect(out).toMatch(/created +securityGroup +sg-globex +globex +org-g +- +run-1/);
    expect(io.err).toEqual([]);
  });

  it('filters by --tenant, keeping only the runs that touched it', async () => {
    const db = join(dir, 'state.db');
    await seed(db);
    const io = memoryIo();
    expect(await main(['history', '--db', db, '--tenant', 'globex'], io)).toBe(0);
    const out = io.out.join('');
    expect(out).toContain('Runs for tenant globex');
    expect(out).toContain('sg-globex');
    expect(out).not.toContain('i-acme1');
    expect(out).not.toContain('run-2');
  });

  it('prints JSON with --json, honouring --limit', async () => {
    const db = join(dir, 'state.db');
    await seed(db);
    const io = memoryIo();
    expect(await main(['history', '--db', db, '--json', '--limit', '1'], io)).toBe(0);
    const parsed = JSON.parse(io.out.join('')) as History & { database: string };
    expect(parsed.database).toBe(db);
    expect(parsed.runs.map((r) => r.runId)).toEqual(['run-2']);
    expect(parsed.resources).toEqual([expect.objectContaining({ resourceId: 'i-acme1', state: 'deleted', slug: 'acme', kind: 'instance' })]);
  });

  it('finds the database through TENANTFORM_DB, else in <repo>/.tenantform/state.db', async () => {
    const viaEnv = join(dir, 'env.db');
    await seed(viaEnv);
    const io = memoryIo({ env: { TENANTFORM_DB: viaEnv } });
    expect(await main(['history', '--json'], io)).toBe(0);
    expect((JSON.parse(io.out.join('')) as History).runs).toHaveLength(2);

    const repo = join(dir, 'fleet');
    await seed(join(repo, '.tenantform', 'state.db'));
    const fromRepo = memoryIo({ cwd: dir });
    expect(await main(['history', '--repo', 'fleet', '--json'], fromRepo)).toBe(0);
    const parsed = JSON.parse(fromRepo.out.join('')) as History & { database: string };
    expect(parsed.database).toBe(join(repo, '.tenantform', 'state.db'));
    expect(parsed.resources).toHaveLength(3);
  });

  it('reports empty history for a missing database without creating it', async () => {
    const db = join(dir, 'nothing', 'state.db');
    const io = memoryIo();
    expect(await main(['history', '--db', db], io)).toBe(0);
    expect(io.out.join('')).toBe(`No audit database at ${db} yet: nothing has been recorded.\n`);
    expect(existsSync(join(dir, 'nothing'))).toBe(false);
    const json = memoryIo();
    expect(await main(['history', '--db', db, '--json'], json)).toBe(0);
    expect(JSON.parse(json.out.join(''))).toEqual({ database: db, runs: [], resources: [] });
  });

  it('refuses a database written by a newer tenantform with exit 1, one line and the database unchanged', async () => {
    const db = join(dir, 'state.db');
    await seed(db);
    const raw = new Database(db);
    raw.pragma('user_version = 99');
    raw.close();
    const before = readFileSync(db);

    const io = memoryIo();
    expect(await main(['history', '--db', db], io)).toBe(1);
    expect(io.err.join('')).toMatch(
      /^error: open audit database .*state\.db: schema version 99 is newer than this tenantform understands \(\d+\); upgrade tenantform\n$/,
    );
    expect(io.out).toEqual([]);
    expect(readFileSync(db).equals(before)).toBe(true);
  });

  it('shows a run whose lease another run reclaimed as abandoned, when and by which run, and adoptions as adopted (text and --json)', async () => {
    const db = join(dir, 'state.db');
    let now = Date.parse('2026-03-01T10:00:00Z');
    const store = openSqliteStore(db, { now: () => now });
    try {
      await store.startRun({ runId: 'run-dead', command: 'apply', environment: 'dev', host: 'ci-1', pid: 4242 });
      await store.acquireLease('dev', { host: 'ci-1', pid: 4242, runId: 'run-dead', startedAt: '2026-03-01T10:00:00.000Z' }, 60_000);
      await store.recordResource({ runId: 'run-dead', environment: 'dev', kind: 'tunnel', resourceId: 't-1', orgId: 'org-a', slug: 'acme', state: 'created' });
      now += 5_000;
      await store.startRun({ runId: 'run-next', command: 'apply', environment: 'dev', host: 'ci-1', pid: 4343 });
      await store.acquireLease('dev', { host: 'ci-1', pid: 4343, runId: 'run-next', startedAt: '2026-03-01T10:00:05.000Z' }, 60_000, {
        holderGone: (h) => h.pid === 4242,
      });
      await store.recordResource({ runId: 'run-next', environment: 'dev', kind: 'tunnel', resourceId: 't-1', orgId: 'org-a', slug: 'acme', state: 'adopted' });
      await store.finishRun({ runId: 'run-next', status: 'succeeded', exitCode: 0 });
    } finally {
      await store.close();
    }
    const io = memoryIo();
    expect(await main(['history', '--db', db], io)).toBe(0);
    const out = io.out.join('');
    expect(out).toMatch(/run-dead +apply +dev +abandoned +- +- +ci-1:4242/);
    expect(out).toContain('  run run-dead abandoned at 2026-03-01T10:00:05.000Z: its process (pid 4242 on ci-1) was gone; lease reclaimed by run run-next\n');
    expect(out).toMatch(/adopted +tunnel +t-1 +acme +org-a +- +run-next/);
    expect(out).toMatch(/created +tunnel +t-1 +acme +org-a +- +run-dead/);

    const json = memoryIo();
    expect(await main(['history', '--db', db, '--json'], json)).toBe(0);
    const parsed = JSON.parse(json.out.join('')) as History;
    expect(parsed.runs.find((r) => r.runId === 'run-dead')).toMatchObject({
      status: 'abandoned',
      abandoned: { at: '2026-03-01T10:00:05.000Z', byRunId: 'run-next', reason: 'holderGone' },
    });
    expect(parsed.runs.find((r) => r.runId === 'run-dead')?.exitCode).toBeUndefined();
    expect(parsed.resources.map((r) => `${r.runId}:${r.state}`)).toEqual(['run-next:adopted', 'run-dead:created']);
  });

  it('rejects a bad --limit with exit 1 and one line naming the flag', async () => {
    const io = memoryIo();
    expect(await main(['history', '--db', join(dir, 'x.db'), '--limit', 'ten'], io)).toBe(1);
    expect(io.err.join('')).toBe('error: read command line --limit: expected a positive whole number, got "ten"\n');
  });
});
