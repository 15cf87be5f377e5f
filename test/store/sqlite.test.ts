import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, TenantformError } from '../../src/errors.js';
import { Redactor } from '../../src/redact.js';
import type { AuditStore, ResourceEventInput } from '../../src/store/model.js';
import { openAuditStore } from '../../src/store/open.js';
import { resolveDbPath } from '../../src/store/path.js';
import { dbUrlSecrets, displayDbLocation } from '../../src/store/url.js';
import { MIGRATIONS, SCHEMA_VERSION } from '../../src/store/sqlite-schema.js';
import { openSqliteStore } from '../../src/store/sqlite.js';

let dir: string;
let store: AuditStore;
let redactor: Redactor;
let clock: number;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tenantform-store-'));
  redactor = new Redactor();
  clock = Date.parse('2026-03-01T10:00:00Z');
  store = openSqliteStore(join(dir, 'nested', 'state.db'), { redactor, now: () => clock });
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function event(over: Partial<ResourceEventInput> = {}): ResourceEventInput {
  return { runId: 'run-1', environment: 'dev', kind: 'instance', resourceId: 'i-0001', orgId: 'org-a', slug: 'acme', state: 'created', ...over };
}

async function startRun(runId: string, command = 'apply'): Promise<void> {
  await store.startRun({ runId, command, environment: 'dev', gitCommit: 'abc123def4567890', host: 'ci-1', pid: 42 });
}

describe('SQLite audit store: schema', () => {
  it('creates the folder, migrates to the current version and uses WAL', () => {
    const db = new Database(join(dir, 'nested', 'state.db'), { readonly: true });
    try {
      expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as { name: string }[]).map((t) => t.name);
      expect(tables).toEqual(expect.arrayContaining(['leases', 'runs', 'tenant_resources']));
    } finally {
      db.close();
    }
  });

  it('keeps data across reopen without migrating again', async () => {
    await startRun('run-1');
    await store.close();
    store = openSqliteStore(join(dir, 'nested', 'state.db'), { redactor });
    const h = await store.history();
    expect(h.runs.map((r) => r.runId)).toEqual(['run-1']);
  });

  it('refuses a database written by a newer tenantform', async () => {
    const path = join(dir, 'future.db');
    const db = new Database(path);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => openSqliteStore(path)).toThrow(/open audit database .*future\.db: .*newer than this tenantform understands/);
  });

  it('upgrades a version-1 database in place: rows, order and claims kept, each old event filed by its own word', async () => {
    const path = join(dir, 'v1.db');
    const raw = new Database(path);
    raw.exec(MIGRATIONS[0]!);
    raw.pragma('user_version = 1');
    const run = raw.prepare(`INSERT INTO runs (run_id, command, environment, started_at, status, host, pid) VALUES (?, 'apply', 'dev', ?, ?, 'ci', 1)`);
    run.run('run-b', '2026-03-01T10:00:00.000Z', 'running');
    run.run('run-a', '2026-03-01T10:00:00.000Z', 'succeeded');
    const ev = raw.prepare(
      `INSERT INTO tenant_resources (seq, run_id, environment, kind, resource_id, org_id, slug, state, at, details) VALUES (?, 'run-a', 'dev', ?, ?, 'org-a', 'acme', ?, '2026-03-01T10:00:00.000Z', ?)`,
    );
    ev.run(5, 'tunnel', 't-1', 'created', JSON.stringify({ event: 'created' }));
    ev.run(9, 'tunnel', 't-1', 'created', JSON.stringify({ event: 'adopted' }));
    ev.run(12, 'instance', 'i-1', 'created', JSON.stringify({ event: 'stopped' }));
    ev.run(13, 'instance', 'i-1', 'created', JSON.stringify({ event: 'command', outcome: 'succeeded' }));
    ev.run(20, 'secret', 's-1', 'created', JSON.stringify({ event: 'restored' }));
    ev.run(21, 'secret', 's-2', 'created', null);
    ev.run(22, 'secret', 's-2', 'deleted', JSON.stringify({ event: 'absent' }));
    ev.run(30, 'instance', 'i-2', 'failed', JSON.stringify({ error: 'x' }));
    raw.close();

    const upgraded = openSqliteStore(path);
    try {
      const h = await upgraded.history();
      // Same start time: the older row (rowid) comes last, as before the upgrade.
      expect(h.runs.map((r) => `${r.runId}:${r.status}`)).toEqual(['run-a:succeeded', 'run-b:running']);
      expect(h.runs.every((r) => r.abandoned === undefined)).toBe(true);
      expect(h.resources.map((r) => `${r.seq}:${r.resourceId}:${r.state}`)).toEqual([
        '30:i-2:failed',
        '22:s-2:deleted',
        '21:s-2:created',
        '20:s-1:adopted',
        '13:i-1:updated',
        '12:i-1:updated',
        '9:t-1:adopted',
        '5:t-1:created',
      ]);
      expect((await upgraded.claims('dev')).map((c) => c.resourceId)).toEqual(['t-1', 'i-1', 's-1']);
      // New events continue the sequence, and the new states are accepted.
      await upgraded.startRun({ runId: 'run-c', command: 'apply', environment: 'dev', host: 'ci', pid: 2 });
      const next = await upgraded.recordResource({
        runId: 'run-c',
        environment: 'dev',
        kind: 'secret',
        resourceId: 's-3',
        orgId: 'org-a',
        slug: 'acme',
        state: 'adopted',
      });
      expect(next.seq).toBe(31);
    } finally {
      await upgraded.close();
    }
    const check = new Database(path, { readonly: true });
    try {
      expect(check.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      const tables = (check.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%_v1'`).all() as unknown[]).length;
      expect(tables).toBe(0);
    } finally {
      check.close();
    }
  });

  it('reports an unusable path as a ConfigError naming it', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const err = await openAuditStore(join(file, 'state.db')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain(`open audit database ${join(file, 'state.db')}`);
  });

  it('recognises a PostgreSQL URL and opens it as PostgreSQL, not as a file (nothing listens on port 1)', async () => {
    await expect(openAuditStore('postgres://user@127.0.0.1:1/tenantform')).rejects.toThrow(ConfigError);
    await expect(openAuditStore('postgresql://user@127.0.0.1:1/tenantform')).rejects.toThrow(
      /^open audit database postgresql:\/\/user@127\.0\.0\.1:1\/tenantform: connect ECONNREFUSED/,
    );
  });
});

describe('SQLite audit store: runs and events', () => {
  it('records a run from start to finish', async () => {
    const started = await store.startRun({ runId: 'run-1', command: 'apply', environment: 'dev', gitCommit: 'c0ffee', host: 'ci-1', pid: 42 });
    expect(started).toMatchObject({
      runId: 'run-1',
      status: 'running',
      startedAt: '2026-03-01T10:00:00.000Z',
      finishedAt: undefined,
      exitCode: undefined,
      host: 'ci-1',
      pid: 42,
    });
    clock += 90_000;
    const finished = await store.finishRun({ runId: 'run-1', status: 'partial', exitCode: 4, summary: { created: 3, failed: ['acme'] } });
    expect(finished).toMatchObject({
      status: 'partial',
      exitCode: 4,
      finishedAt: '2026-03-01T10:01:30.000Z',
      summary: { created: 3, failed: ['acme'] },
      gitCommit: 'c0ffee',
    });
  });

  it('refuses to finish a run it never started', async () => {
    await expect(store.finishRun({ runId: 'nope', status: 'failed', exitCode: 1 })).rejects.toThrow(TenantformError);
    await expect(store.finishRun({ runId: 'nope', status: 'failed', exitCode: 1 })).rejects.toThrow('finish run nope: no such run');
  });

  it('refuses a duplicate run id with an error naming the operation', async () => {
    await startRun('run-1');
    await expect(startRun('run-1')).rejects.toThrow(/^start run run-1 in audit database .*: .*UNIQUE/);
  });

  it('records resource events with their details and sequence', async () => {
    await startRun('run-1');
    const a = await store.recordResource(event({ workspaceId: 'ws-1', gitCommit: 'c0ffee', details: { instanceType: 't3.large' } }));
    const b = await store.recordResource(event({ resourceId: 'sg-1', kind: 'securityGroup' }));
    expect(a).toMatchObject({
      runId: 'run-1',
      kind: 'instance',
      resourceId: 'i-0001',
      workspaceId: 'ws-1',
      state: 'created',
      gitCommit: 'c0ffee',
      details: { instanceType: 't3.large' },
      at: '2026-03-01T10:00:00.000Z',
    });
    expect(b.seq).toBeGreaterThan(a.seq);
    expect(b.workspaceId).toBeUndefined();
    expect(b.details).toBeUndefined();
  });

  it('shows history newest first, filtered by tenant slug or org, with the runs that touched it', async () => {
    await startRun('run-1');
    await store.recordResource(event({ runId: 'run-1', slug: 'acme', orgId: 'org-a', resourceId: 'i-1' }));
    clock += 1000;
    await startRun('run-2');
    await store.recordResource(event({ runId: 'run-2', slug: 'globex', orgId: 'org-g', resourceId: 'i-2' }));
    clock += 1000;
    await startRun('run-3', 'sweep');
    await store.recordResource(event({ runId: 'run-3', slug: 'acme', orgId: 'org-a', resourceId: 'i-1', state: 'deleted' }));

    const all = await store.history();
    expect(all.runs.map((r) => r.runId)).toEqual(['run-3', 'run-2', 'run-1']);
    expect(all.resources.map((r) => `${r.runId}:${r.resourceId}:${r.state}`)).toEqual(['run-3:i-1:deleted', 'run-2:i-2:created', 'run-1:i-1:created']);

    const acme = await store.history({ slug: 'acme' });
    expect(acme.runs.map((r) => r.runId)).toEqual(['run-3', 'run-1']);
    expect(acme.resources.every((r) => r.slug === 'acme')).toBe(true);
    expect(acme.resources).toHaveLength(2);

    const byOrg = await store.history({ orgId: 'org-g' });
    expect(byOrg.runs.map((r) => r.runId)).toEqual(['run-2']);

    const limited = await store.history({ limit: 1 });
    expect(limited.runs.map((r) => r.runId)).toEqual(['run-3']);
    expect(limited.resources.map((r) => r.runId)).toEqual(['run-3']);
  });

  it('records adopted and updated events apart from created ones, and claims them all', async () => {
    await startRun('run-1');
    await store.recordResource(event({ resourceId: 'i-made' }));
    await store.recordResource(event({ resourceId: 'i-found', state: 'adopted' }));
    await store.recordResource(event({ resourceId: 'i-found', state: 'updated', details: { event: 'stopped' } }));
    await store.recordResource(event({ resourceId: 'i-took', state: 'adopted' }));
    await store.recordResource(event({ resourceId: 'i-took', state: 'deleted' }));
    const h = await store.history();
    expect(h.resources.map((r) => `${r.resourceId}:${r.state}`).reverse()).toEqual([
      'i-made:created',
      'i-found:adopted',
      'i-found:updated',
      'i-took:adopted',
      'i-took:deleted',
    ]);
    expect((await store.claims('dev')).map((c) => `${c.resourceId}:${c.state}`)).toEqual(['i-made:created', 'i-found:updated']);
  });

  it('claims what was created and not later deleted, per environment, ignoring failed events', async () => {
    await startRun('run-1');
    await store.recordResource(event({ resourceId: 'i-kept' }));
    await store.recordResource(event({ resourceId: 'i-gone' }));
    await store.recordResource(event({ resourceId: 'i-gone', state: 'deleted' }));
    await store.recordResource(event({ resourceId: 'i-stuck' }));
    await store.recordResource(event({ resourceId: 'i-stuck', state: 'failed', details: { error: 'termination deadline passed' } }));
    await store.recordResource(event({ resourceId: 'i-back' }));
    await store.recordResource(event({ resourceId: 'i-back', state: 'deleted' }));
    await store.recordResource(event({ resourceId: 'i-back' }));
    await store.recordResource(event({ resourceId: 'i-never', state: 'failed' }));
    await store.recordResource(event({ resourceId: 'i-staging', environment: 'staging' }));
    // Same id, different kind: a separate resource.
    await store.recordResource(event({ resourceId: 'i-gone', kind: 'securityGroup' }));

    const claims = await store.claims('dev');
    expect(claims.map((c) => `${c.kind}:${c.resourceId}`).sort()).toEqual(['instance:i-back', 'instance:i-kept', 'instance:i-stuck', 'securityGroup:i-gone']);
    expect((await store.claims('staging')).map((c) => c.resourceId)).toEqual(['i-staging']);
    expect(await store.claims('prod')).toEqual([]);
  });
});

describe('SQLite audit store: secrets never stored', () => {
  it('redacts every string and JSON value going in, by value and by key', async () => {
    const secret = 'Gen3rated-Admin-T0ken-xyz';
    redactor.register(secret);
    await store.startRun({ runId: 'run-1', command: `apply --token ${secret}`, environment: 'dev', host: 'ci-1', pid: 1 });
    await store.recordResource(
      event({
        resourceId: `sg-${secret}`,
        details: { note: `user-data had ${secret}`, nested: [{ msg: secret }], adminToken: 'not-registered-but-keyed' },
      }),
    );
    await store.finishRun({ runId: 'run-1', status: 'failed', exitCode: 1, summary: { error: `auth failed for ${secret}`, password: 'also-keyed-value' } });
    await store.acquireLease('dev', { host: 'ci-1', pid: 1, runId: 'run-1', startedAt: secret }, 60_000);

    const h = await store.history();
    const text = JSON.stringify(h) + JSON.stringify(await store.currentLease('dev'));
    expect(text).toContain('[REDACTED]');
    expect(text).not.toContain(secret);
    expect(text).not.toContain('not-registered-but-keyed');
    expect(text).not.toContain('also-keyed-value');

    // And not in the bytes on disk either (database and write-ahead log).
    await store.close();
    const path = join(dir, 'nested', 'state.db');
    for (const file of [path, `${path}-wal`]) {
      if (existsSync(file)) expect(readFileSync(file).includes(Buffer.from(secret))).toBe(false);
    }
  });
});

describe('resolveDbPath', () => {
  it('prefers --db, then TENANTFORM_DB, then <repo>/.tenantform/state.db', () => {
    const env = { TENANTFORM_DB: 'from-env.db' };
    expect(resolveDbPath({ flag: 'x/flag.db', env, repoDir: '/repo', cwd: '/work' })).toEqual({ path: '/work/x/flag.db', source: 'flag' });
    expect(resolveDbPath({ env, repoDir: '/repo', cwd: '/work' })).toEqual({ path: '/work/from-env.db', source: 'env' });
    expect(resolveDbPath({ env: {}, repoDir: '/repo', cwd: '/work' })).toEqual({ path: '/repo/.tenantform/state.db', source: 'repo' });
    expect(resolveDbPath({ env: {}, repoDir: 'fleet', cwd: '/work' })).toEqual({ path: '/work/fleet/.tenantform/state.db', source: 'repo' });
    expect(resolveDbPath({ flag: '/abs/a.db', env: {}, repoDir: '/repo', cwd: '/work' })).toEqual({ path: '/abs/a.db', source: 'flag' });
  });

  it('recognises a URL, from --db or TENANTFORM_DB, before any path handling', () => {
    const url = 'postgres://u:pw@localhost/x';
    expect(resolveDbPath({ flag: url, env: {}, repoDir: '/repo', cwd: '/work' })).toEqual({ url, source: 'flag' });
    expect(resolveDbPath({ env: { TENANTFORM_DB: 'mysql://db/x' }, repoDir: '/repo', cwd: '/work' })).toEqual({ url: 'mysql://db/x', source: 'env' });
    // Paths stay paths, even with a colon in them.
    expect(resolveDbPath({ flag: 'c:state.db', env: {}, repoDir: '/repo', cwd: '/work' })).toEqual({ path: '/work/c:state.db', source: 'flag' });
  });
});

describe('audit database URLs', () => {
  it('are shown without their password, in the userinfo or a query parameter', () => {
    expect(displayDbLocation('postgres://u:pw@localhost/x')).toBe('postgres://u:[REDACTED]@localhost/x');
    expect(displayDbLocation('postgresql://admin:p/a@ss@db:5432/x?sslmode=require')).toBe('postgresql://admin:[REDACTED]@db:5432/x?sslmode=require');
    expect(displayDbLocation('postgres://db/x?user=u&password=hunter22&sslpassword=k3y')).toBe('postgres://db/x?user=u&password=[REDACTED]&sslpassword=[REDACTED]');
    expect(displayDbLocation('postgres://u@db/x')).toBe('postgres://u@db/x');
    expect(displayDbLocation('/var/lib/tenantform/state.db')).toBe('/var/lib/tenantform/state.db');
    expect(dbUrlSecrets('postgres://u:p%40ss-w0rd@db/x?password=other-one')).toEqual(['p%40ss-w0rd', 'p@ss-w0rd', 'other-one']);
  });

  it('that cannot be opened fail with one line, the password left out', async () => {
    const refusal = async (location: string) => {
      const e = await openAuditStore(location).then(
        () => undefined,
        (err: unknown) => err as Error,
      );
      if (!e) throw new Error('not refused');
      return e;
    };
    const pg = await refusal('postgres://u:hunter22@127.0.0.1:1/x');
    expect(pg).toBeInstanceOf(ConfigError);
    expect(pg.message).toBe('open audit database postgres://u:[REDACTED]@127.0.0.1:1/x: connect ECONNREFUSED 127.0.0.1:1');
    expect((await refusal('mysql://root:hunter22@db/x')).message).toBe(
      'open audit database mysql://root:[REDACTED]@db/x: mysql:// URLs are not supported; use a postgres:// URL or a SQLite file path',
    );
  });
});
