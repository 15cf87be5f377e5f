/**
 * The audit store contract, one table of tests run against both stores: SQLite (a file) and
 * PostgreSQL (a real server, a throwaway cluster from test/support/postgres.ts, one database per
 * test). Runs, events, history, claims, leases, migrations, the newer-schema refusal, first
 * sightings (sweep's ages) and drift's deep-check marks. Where the
 * two differ by design (how a dead lease holder is known), the harness says how to kill one.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, ExitCode, GuardRefusal, InternalError } from '../../src/errors.js';
import { Redactor } from '../../src/redact.js';
import { withLease } from '../../src/store/lease.js';
import { MIGRATIONS, SCHEMA_VERSION } from '../../src/store/migrations.js';
import type { AuditStore, LeaseHolder, ResourceEventInput } from '../../src/store/model.js';
import { openAuditStore } from '../../src/store/open.js';
import { freshPostgresUrl, postgresServer } from '../support/postgres.js';

interface StoreHarness {
  /** A new, empty database (called before each test). */
  fresh(): Promise<void>;
  /** The test's database; every call opens it again. */
  location(): string;
  version(): Promise<number>;
  setVersion(v: number): Promise<void>;
  /** Builds the database as release 1 left it, with the given SQL run after migration 1. */
  buildV1(insertSql: string): Promise<void>;
  /** How a holder in store `s` dies without releasing: SQLite knows it by pid (holderGone), PostgreSQL by its session ending. */
  dead: 'holderGone' | 'sessionEnded';
  done(): Promise<void>;
}

function sqliteHarness(): StoreHarness {
  const dir = mkdtempSync(join(tmpdir(), 'tenantform-contract-'));
  let n = 0;
  let path = '';
  const withDb = <T>(fn: (db: Database.Database) => T): T => {
    const db = new Database(path);
    try {
      return fn(db);
    } finally {
      db.close();
    }
  };
  return {
    fresh: async () => void (path = join(dir, `s${++n}.db`)),
    location: () => path,
    version: async () => withDb((db) => db.pragma('user_version', { simple: true }) as number),
    setVersion: async (v) => withDb((db) => void db.pragma(`user_version = ${v}`)),
    buildV1: async (sql) =>
      withDb((db) => {
        db.exec(MIGRATIONS[0]!.sqlite);
        db.exec(sql);
        db.pragma('user_version = 1');
      }),
    dead: 'holderGone',
    done: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

function postgresHarness(): StoreHarness {
  let url = '';
  const withDb = async <T>(fn: (c: pg.Client) => Promise<T>): Promise<T> => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  };
  return {
    fresh: async () => void (url = await freshPostgresUrl('contract')),
    location: () => url,
    version: () => withDb(async (c) => (await c.query<{ version: number }>('SELECT version FROM tenantform_schema')).rows[0]!.version),
    setVersion: (v) => withDb(async (c) => void (await c.query('UPDATE tenantform_schema SET version = $1', [v]))),
    buildV1: (sql) =>
      withDb(async (c) => {
        await c.query(MIGRATIONS[0]!.postgres);
        await c.query(sql);
        await c.query(
          'CREATE TABLE tenantform_schema (one BOOLEAN PRIMARY KEY DEFAULT true CHECK (one), version INTEGER NOT NULL); INSERT INTO tenantform_schema VALUES (true, 1)',
        );
      }),
    dead: 'sessionEnded',
    done: async () => undefined,
  };
}

const alice: LeaseHolder = { host: 'host-a', pid: 101, runId: 'run-alice', startedAt: '2026-03-01T09:59:00.000Z' };
const bob: LeaseHolder = { host: 'host-b', pid: 202, runId: 'run-bob', startedAt: '2026-03-01T10:00:00.000Z' };

function event(over: Partial<ResourceEventInput> = {}): ResourceEventInput {
  return { runId: 'r1', environment: 'dev', kind: 'instance', resourceId: 'i-1', orgId: 'org-a', slug: 'acme', state: 'created', ...over };
}

describe.each([
  ['SQLite', sqliteHarness],
  ['PostgreSQL', postgresHarness],
] as const)('audit store contract: %s', (name, make) => {
  let h: StoreHarness;
  let now: number;
  let redactor: Redactor;
  const open: AuditStore[] = [];
  const openStore = async () => {
    const s = await openAuditStore(h.location(), { redactor, now: () => now });
    open.push(s);
    return s;
  };
  let store: AuditStore;

  beforeAll(async () => {
    h = make();
    // Start the cluster outside any one test's time limit.
    if (name === 'PostgreSQL') await postgresServer();
  });
  afterAll(async () => h?.done());
  beforeEach(async () => {
    now = Date.parse('2026-03-01T10:00:00Z');
    redactor = new Redactor();
    await h.fresh();
    store = await openStore();
  });
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
  });

  it('names its kind and a location without credentials', () => {
    expect(store.kind).toBe(name === 'SQLite' ? 'sqlite' : 'postgres');
    if (name === 'PostgreSQL') expect(store.location).toMatch(/^postgres:\/\/postgres:\[REDACTED\]@127\.0\.0\.1:\d+\/contract_/);
  });

  it('migrates a new database to the current version, and reopening changes nothing', async () => {
    expect(await h.version()).toBe(SCHEMA_VERSION);
    await store.startRun({ runId: 'r1', command: 'apply', environment: 'dev', host: 'h', pid: 1 });
    await (await openStore()).close();
    expect(await h.version()).toBe(SCHEMA_VERSION);
    expect((await store.history()).runs.map((r) => r.runId)).toEqual(['r1']);
  });

  it('refuses a database written by a newer tenantform, in one line', async () => {
    await store.close();
    await h.setVersion(SCHEMA_VERSION + 1);
    const err = await openStore().catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(
      new RegExp(`^open audit database .*: schema version ${SCHEMA_VERSION + 1} is newer than this tenantform understands \\(${SCHEMA_VERSION}\\); upgrade tenantform$`),
    );
    expect((err as Error).message).not.toContain('\n');
  });

  it('upgrades a version-1 database in place, each old event filed by its own word', async () => {
    await store.close();
    await h.fresh();
    await h.buildV1(`
      INSERT INTO runs (run_id, command, environment, started_at, status, host, pid) VALUES ('old', 'apply', 'dev', '2026-01-01T00:00:00.000Z', 'succeeded', 'h', 1);
      INSERT INTO tenant_resources (run_id, environment, kind, resource_id, org_id, slug, state, at, details) VALUES
        ('old', 'dev', 'instance', 'i-made', 'org-a', 'acme', 'created', '2026-01-01T00:00:01.000Z', '{"event":"created"}'),
        ('old', 'dev', 'secret', 's-took', 'org-a', 'acme', 'created', '2026-01-01T00:00:02.000Z', '{"event":"adopted"}'),
        ('old', 'dev', 'instance', 'i-made', 'org-a', 'acme', 'created', '2026-01-01T00:00:03.000Z', '{"event":"resized"}');
    `);
    const upgraded = await openStore();
    expect(await h.version()).toBe(SCHEMA_VERSION);
    const { resources } = await upgraded.history();
    expect(resources.map((r) => `${r.seq} ${r.resourceId} ${r.state}`)).toEqual(['3 i-made updated', '2 s-took adopted', '1 i-made created']);
    expect((await upgraded.claims('dev')).map((r) => r.resourceId)).toEqual(['s-took', 'i-made']);
    await upgraded.startRun({ runId: 'new', command: 'apply', environment: 'dev', host: 'h', pid: 2 });
    expect((await upgraded.recordResource(event({ runId: 'new' }))).seq).toBe(4);
  });

  it('records a run from start to finish; an unknown run cannot finish; a run id is unique', async () => {
    const started = await store.startRun({ runId: 'r1', command: 'apply', environment: 'dev', gitCommit: 'abc', host: 'h', pid: 7 });
    expect(started).toMatchObject({ runId: 'r1', status: 'running', startedAt: '2026-03-01T10:00:00.000Z', finishedAt: undefined, gitCommit: 'abc', pid: 7 });
    now += 5000;
    const done = await store.finishRun({ runId: 'r1', status: 'partial', exitCode: 4, summary: { failed: 1 } });
    expect(done).toMatchObject({ status: 'partial', exitCode: 4, finishedAt: '2026-03-01T10:00:05.000Z', summary: { failed: 1 }, abandoned: undefined });
    await expect(store.finishRun({ runId: 'nope', status: 'failed', exitCode: 1 })).rejects.toBeInstanceOf(InternalError);
    await expect(store.startRun({ runId: 'r1', command: 'apply', environment: 'dev', host: 'h', pid: 7 })).rejects.toThrow(/^start run r1/);
  });

  it('records events in order with their details; history is newest first and filtered by slug, org or environment', async () => {
    await store.startRun({ runId: 'r1', command: 'apply', environment: 'dev', host: 'h', pid: 1 });
    now += 1000;
    await store.startRun({ runId: 'r2', command: 'apply', environment: 'prod', host: 'h', pid: 1 });
    const a = await store.recordResource(event({ details: { name: 'x', nested: [1, 2] }, workspaceId: 'ws-1' }));
    const b = await store.recordResource(event({ runId: 'r2', environment: 'prod', orgId: 'org-b', slug: 'globex', resourceId: 'i-2' }));
    expect(b.seq).toBeGreaterThan(a.seq);
    expect(a).toMatchObject({ kind: 'instance', workspaceId: 'ws-1', details: { name: 'x', nested: [1, 2] }, gitCommit: undefined, at: '2026-03-01T10:00:01.000Z' });
    const all = await store.history();
    expect(all.runs.map((r) => r.runId)).toEqual(['r2', 'r1']);
    expect(all.resources.map((r) => r.resourceId)).toEqual(['i-2', 'i-1']);
    expect(await store.history({ slug: 'acme' })).toMatchObject({ runs: [{ runId: 'r1' }], resources: [{ resourceId: 'i-1' }] });
    expect(await store.history({ orgId: 'org-b' })).toMatchObject({ runs: [{ runId: 'r2' }], resources: [{ resourceId: 'i-2' }] });
    expect(await store.history({ environment: 'prod' })).toMatchObject({ runs: [{ runId: 'r2' }], resources: [{ resourceId: 'i-2' }] });
    expect(await store.history({ slug: 'nobody' })).toEqual({ runs: [], resources: [] });
    const limited = await store.history({ limit: 1 });
    expect([limited.runs.length, limited.resources.length]).toEqual([1, 1]);
  });

  it('orders runs started in the same millisecond by when they were recorded', async () => {
    for (const id of ['a', 'b', 'c']) await store.startRun({ runId: id, command: 'apply', environment: 'dev', host: 'h', pid: 1 });
    expect((await store.history()).runs.map((r) => r.runId)).toEqual(['c', 'b', 'a']);
  });

  it('claims what was created, adopted or updated and not later deleted, per environment; failed events change nothing', async () => {
    await store.recordResource(event({ resourceId: 'i-1' }));
    await store.recordResource(event({ resourceId: 's-1', kind: 'secret', state: 'adopted' }));
    await store.recordResource(event({ resourceId: 'i-2' }));
    await store.recordResource(event({ resourceId: 'i-2', state: 'deleted' }));
    await store.recordResource(event({ resourceId: 'i-1', state: 'updated' }));
    await store.recordResource(event({ resourceId: 'i-1', state: 'failed' }));
    await store.recordResource(event({ resourceId: 'i-3', state: 'failed' }));
    await store.recordResource(event({ resourceId: 'i-9', environment: 'prod' }));
    expect((await store.claims('dev')).map((r) => `${r.kind} ${r.resourceId} ${r.state}`)).toEqual(['secret s-1 adopted', 'instance i-1 updated']);
    expect((await store.claims('prod')).map((r) => r.resourceId)).toEqual(['i-9']);
    expect(await store.claims('staging')).toEqual([]);
  });

  it('redacts every string and JSON value going in, by value and by key', async () => {
    redactor.register('hunter2-secret');
    await store.startRun({ runId: 'r1', command: 'apply', environment: 'dev', host: 'h', pid: 1 });
    await store.finishRun({ runId: 'r1', status: 'failed', exitCode: 1, summary: { error: 'login hunter2-secret failed', apiToken: 'tok' } });
    await store.recordResource(event({ details: { note: 'x hunter2-secret y', password: 'pw' } }));
    const { runs, resources } = await store.history();
    expect(runs[0]!.summary).toEqual({ error: 'login [REDACTED] failed', apiToken: '[REDACTED]' });
    expect(resources[0]!.details).toEqual({ note: 'x [REDACTED] y', password: '[REDACTED]' });
  });

  it('records first sightings: the first kept, per environment; prune forgets the keys not seen', async () => {
    const first = await store.recordSightings('dev', ['securityGroup:sg-1', 'secret:b'], '2026-03-01T10:00:00.000Z');
    expect(Object.fromEntries(first)).toEqual({ 'securityGroup:sg-1': '2026-03-01T10:00:00.000Z', 'secret:b': '2026-03-01T10:00:00.000Z' });
    // Seen again later (and by another store on the same database): the first sighting stays; a new key gets the new time.
    const other = await openStore();
    const again = await other.recordSightings('dev', ['securityGroup:sg-1', 'dnsRecord:r-1'], '2026-03-01T11:00:00.000Z');
    expect(Object.fromEntries(again)).toEqual({ 'securityGroup:sg-1': '2026-03-01T10:00:00.000Z', 'dnsRecord:r-1': '2026-03-01T11:00:00.000Z' });
    // Another environment is its own.
    expect(Object.fromEntries(await store.recordSightings('staging', ['securityGroup:sg-1'], '2026-03-02T00:00:00.000Z'))).toEqual({
      'securityGroup:sg-1': '2026-03-02T00:00:00.000Z',
    });
    // Without prune nothing is forgotten: secret:b is still known from 10:00.
    expect(Object.fromEntries(await store.recordSightings('dev', ['secret:b'], '2026-03-01T12:00:00.000Z'))).toEqual({ 'secret:b': '2026-03-01T10:00:00.000Z' });
    // A full observation prunes: only sg-1 is still there; the rest of dev is forgotten, staging untouched.
    await store.recordSightings('dev', ['securityGroup:sg-1'], '2026-03-01T13:00:00.000Z', { prune: true });
    expect(Object.fromEntries(await store.recordSightings('dev', ['secret:b', 'dnsRecord:r-1', 'securityGroup:sg-1'], '2026-03-01T14:00:00.000Z'))).toEqual({
      'securityGroup:sg-1': '2026-03-01T10:00:00.000Z',
      'secret:b': '2026-03-01T14:00:00.000Z',
      'dnsRecord:r-1': '2026-03-01T14:00:00.000Z',
    });
    expect(Object.fromEntries(await store.recordSightings('staging', [], '2026-03-03T00:00:00.000Z'))).toEqual({});
    expect(Object.fromEntries(await store.recordSightings('staging', ['securityGroup:sg-1'], '2026-03-04T00:00:00.000Z'))).toEqual({
      'securityGroup:sg-1': '2026-03-02T00:00:00.000Z',
    });
  });

  it('records deep checks: each run one sequence number higher, one row per tenant (upsert), per environment', async () => {
    expect(await store.deepCheckMarks('dev')).toEqual([]);
    await store.recordDeepChecks(
      'dev',
      [
        { orgId: 'org-a', slug: 'acme' },
        { orgId: 'org-b', slug: 'globex' },
      ],
      '2026-03-01T10:00:00.000Z',
    );
    const byOrg = async (env: string) => Object.fromEntries((await store.deepCheckMarks(env)).map((m) => [m.orgId, m]));
    expect(await byOrg('dev')).toEqual({
      'org-a': { orgId: 'org-a', slug: 'acme', checkedAt: '2026-03-01T10:00:00.000Z', runSeq: 1 },
      'org-b': { orgId: 'org-b', slug: 'globex', checkedAt: '2026-03-01T10:00:00.000Z', runSeq: 1 },
    });
    // The next run (another store on the same database) re-checks org-a under a new slug: updated in place, sequence 2.
    const other = await openStore();
    await other.recordDeepChecks('dev', [{ orgId: 'org-a', slug: 'acme-renamed' }], '2026-03-01T10:00:00.000Z');
    expect(await byOrg('dev')).toEqual({
      'org-a': { orgId: 'org-a', slug: 'acme-renamed', checkedAt: '2026-03-01T10:00:00.000Z', runSeq: 2 },
      'org-b': { orgId: 'org-b', slug: 'globex', checkedAt: '2026-03-01T10:00:00.000Z', runSeq: 1 },
    });
    await store.recordDeepChecks('dev', [{ orgId: 'org-b', slug: 'globex' }], '2026-03-01T11:00:00.000Z');
    expect((await byOrg('dev'))['org-b']).toEqual({ orgId: 'org-b', slug: 'globex', checkedAt: '2026-03-01T11:00:00.000Z', runSeq: 3 });
    expect(await store.deepCheckMarks('dev')).toHaveLength(2);
    // Another environment counts its own runs.
    await store.recordDeepChecks('staging', [{ orgId: 'org-a', slug: 'acme' }], '2026-03-01T12:00:00.000Z');
    expect(await store.deepCheckMarks('staging')).toEqual([{ orgId: 'org-a', slug: 'acme', checkedAt: '2026-03-01T12:00:00.000Z', runSeq: 1 }]);
  });

  it('gives a free lease to the first holder and names it to the next; environments are independent', async () => {
    expect(await store.acquireLease('dev', alice, 30_000)).toMatchObject({
      acquired: true,
      reclaimed: undefined,
      lease: { environment: 'dev', holder: alice, expiresAt: now + 30_000 },
    });
    const other = await openStore();
    expect(await other.acquireLease('dev', bob, 30_000)).toMatchObject({ acquired: false, current: { holder: alice } });
    expect((await other.acquireLease('prod', bob, 30_000)).acquired).toBe(true);
    expect((await other.currentLease('dev'))?.holder).toEqual(alice);
    const refused = await withLease(other, 'dev', bob, async () => 'ran').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(GuardRefusal);
    expect((refused as GuardRefusal).exitCode).toBe(ExitCode.refused);
    expect((refused as Error).message).toMatch(/^lock environment dev: held by run run-alice \(pid 101 on host-a, started 2026-03-01T09:59:00.000Z; lease expires/);
  });

  it('lets the holder renew and release; others cannot; once released the next holder takes it', async () => {
    await store.acquireLease('dev', alice, 30_000);
    const other = await openStore();
    expect(await other.renewLease('dev', bob, 30_000)).toBe(false);
    expect(await other.releaseLease('dev', bob)).toBe(false);
    now += 10_000;
    expect(await store.renewLease('dev', alice, 30_000)).toBe(true);
    expect(await store.currentLease('dev')).toMatchObject({ renewedAt: now, expiresAt: now + 30_000 });
    expect(await store.renewLease('dev', { ...alice, pid: 999 }, 30_000)).toBe(false);
    expect(await store.releaseLease('dev', alice)).toBe(true);
    expect(await store.releaseLease('dev', alice)).toBe(false);
    expect(await store.currentLease('dev')).toBeUndefined();
    expect(await other.acquireLease('dev', bob, 30_000)).toMatchObject({ acquired: true, reclaimed: undefined });
    expect(await withLease(other, 'staging', bob, async () => 'done')).toBe('done');
    expect(await other.currentLease('staging')).toBeUndefined();
  });

  it('takes a dead holder’s lease at once and records its run as abandoned', async () => {
    const dying = await openStore();
    await dying.startRun({ runId: alice.runId, command: 'apply', environment: 'dev', host: alice.host, pid: alice.pid });
    await dying.acquireLease('dev', alice, 60_000);
    let gone = (_h: LeaseHolder) => false;
    if (h.dead === 'holderGone') gone = (holder) => holder.runId === alice.runId;
    // PostgreSQL: the holder's session ends (as when its process dies), freeing the advisory lock.
    else await dying.close();
    now += 1000;
    const taken = await store.acquireLease('dev', bob, 60_000, { holderGone: gone });
    expect(taken).toMatchObject({ acquired: true, reclaimed: { holder: alice, reason: 'holderGone' }, lease: { holder: bob } });
    const run = (await store.history()).runs.find((r) => r.runId === alice.runId);
    expect(run).toMatchObject({ status: 'abandoned', abandoned: { byRunId: bob.runId, reason: 'holderGone', at: '2026-03-01T10:00:01.000Z' } });
  });
});
