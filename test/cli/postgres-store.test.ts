/**
 * The CLI on the PostgreSQL store (a real server: test/support/postgres.ts) against the emulators:
 * - the scenario: two clones of the fleet, each applied at once by the built CLI, one via
 *   --db and one via DATABASE_URL, sharing one database → exactly one applies, the other exits 3
 *   naming the holder; every instance is launched and recorded `created` once;
 * - the connection string's password appears in no output of apply, history or plan, including
 *   a failing connection (wrong password, wrong port);
 * - with CI=true a SQLite store inside the checkout is warned about in one line; PostgreSQL is not.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAuditStore } from '../../src/store/open.js';
import { freshPostgresUrl, postgresServer, type PostgresServer } from '../support/postgres.js';
import { ORG, startApplyWorld, type ApplyWorld } from './apply-world.js';

const bin = fileURLToPath(new URL('../../bin/tenantform.js', import.meta.url));

function cli(args: string[], cwd: string, env: Record<string, string>): Promise<{ pid: number; code: number | null; stdout: string; stderr: string }> {
  const p = spawn(process.execPath, [bin, ...args], { cwd, env: { PATH: process.env.PATH ?? '', ...env } });
  let stdout = '';
  let stderr = '';
  p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    p.once('error', reject);
    p.once('close', (code) => resolve({ pid: p.pid!, code, stdout, stderr }));
  });
}

describe('two clones of the fleet applying at once against one PostgreSQL database', () => {
  let w: ApplyWorld;
  let server: PostgresServer;
  let clone: string;
  beforeAll(async () => {
    server = await postgresServer();
    w = await startApplyWorld();
    clone = mkdtempSync(join(tmpdir(), 'tenantform-clone-'));
    cpSync(join(w.dir, 'fleet.yaml'), join(clone, 'fleet.yaml'));
    cpSync(join(w.dir, 'tenants'), join(clone, 'tenants'), { recursive: true });
  });
  afterAll(async () => {
    await w?.close();
    if (clone) rmSync(clone, { recursive: true, force: true });
  });

  it('exactly one applies, the other exits 3 naming the holder; each instance is created once', { timeout: 240_000 }, async () => {
    expect(existsSync(new URL('../../dist/store/postgres/open.js', import.meta.url)), 'dist/ is missing or old: run `npm run build`').toBe(true);
    const url = await freshPostgresUrl('clones');
    const results = await Promise.all([
      cli(['apply', '--auto-approve', '--db', url], w.dir, w.env),
      cli(['apply', '--auto-approve'], clone, { ...w.env, DATABASE_URL: url, CI: 'true' }),
    ]);
    const output = results.map((r) => r.stdout + r.stderr).join('\n');
    expect(
      results.map((r) => r.code),
      output,
    ).toEqual(expect.arrayContaining([0, 3]));
    const winner = results.find((r) => r.code === 0)!;
    const loser = results.find((r) => r.code === 3)!;
    expect(loser.stderr).toMatch(
      new RegExp(
        `^error: lock environment dev: held by run [0-9a-f-]{36} \\(pid ${winner.pid} on .+, started .+\\); the database frees it as soon as that process ends\\n$`,
        'm',
      ),
    );
    expect(winner.stdout).toContain('Apply: 8 ok, 0 failed, 0 skipped');
    expect(output).not.toContain(server.password);
    // A shared store: no warning about a local one, even on CI.
    expect(output).not.toContain('local to this runner');
    // No SQLite file appeared in either clone.
    expect(existsSync(join(clone, '.tenantform'))).toBe(false);
    expect(existsSync(join(w.dir, '.tenantform'))).toBe(false);

    expect(w.aws.calls.filter((c) => c.action === 'RunInstances')).toHaveLength(8);
    expect(await w.instances(ORG.acme)).toHaveLength(3);
    const store = await openAuditStore(url);
    try {
      const { runs, resources } = await store.history({ limit: 1000 });
      expect(runs.map((r) => `${r.status} ${r.exitCode}`).sort()).toEqual(['refused 3', 'succeeded 0']);
      const created = resources.filter((r) => r.kind === 'instance' && r.state === 'created').map((r) => r.resourceId);
      expect(created).toHaveLength(8);
      expect(new Set(created).size).toBe(8);
    } finally {
      await store.close();
    }

    // history through the URL: the runs, and the password nowhere (text and JSON).
    for (const extra of [[], ['--json']]) {
      const h = await cli(['history', '--db', url, ...extra], w.dir, {});
      expect(h.code, h.stderr).toBe(0);
      expect(h.stdout).toContain('succeeded');
      expect(h.stdout + h.stderr).not.toContain(server.password);
      if (extra.length > 0) expect(JSON.parse(h.stdout).database).toMatch(/^postgres:\/\/postgres:\[REDACTED\]@127\.0\.0\.1:\d+\/clones_/);
    }
    const viaEnv = await cli(['history'], w.dir, { DATABASE_URL: url });
    expect(viaEnv.code).toBe(0);
    expect(viaEnv.stdout).toContain('refused');
    expect(viaEnv.stdout + viaEnv.stderr).not.toContain(server.password);
  });

  it('plan with DATABASE_URL set shows no password', { timeout: 120_000 }, async () => {
    const url = await freshPostgresUrl('plan');
    const res = await w.run(['plan'], { io: { env: { ...w.env, DATABASE_URL: url } } });
    expect([0, 2]).toContain(res.code);
    expect(res.stdout + res.stderr).not.toContain(server.password);
  });

  it('a wrong password or port: exit 1, one line, the password nowhere, nothing changed', { timeout: 120_000 }, async () => {
    const url = await freshPostgresUrl('wrong');
    const wrongPassword = url.replace(encodeURIComponent(server.password), 'Wr0ng-passw0rd-given');
    const wrongPort = url.replace(`:${server.port}/`, ':1/');
    const traffic = w.mark();
    for (const [location, secret, why] of [
      [wrongPassword, 'Wr0ng-passw0rd-given', /password authentication failed for user "postgres" \(28P01\)/],
      [wrongPort, server.password, /connect ECONNREFUSED 127\.0\.0\.1:1/],
    ] as const) {
      for (const args of [
        ['apply', '--auto-approve', '--db', location],
        ['history', '--db', location],
        ['history', '--json', '--db', location],
      ]) {
        const res = await cli(args, w.dir, w.env);
        expect(res.code, res.stderr).toBe(1);
        const text = res.stdout + res.stderr;
        expect(text).not.toContain(secret);
        expect(text).not.toContain(encodeURIComponent(secret));
        expect(res.stderr).toMatch(/^error: open audit database postgres:\/\/postgres:\[REDACTED\]@127\.0\.0\.1:\d+\/wrong_\w+: .+\n$/);
        expect(res.stderr).toMatch(why);
      }
      const viaEnv = await cli(['apply', '--auto-approve'], w.dir, { ...w.env, DATABASE_URL: location });
      expect(viaEnv.code).toBe(1);
      expect(viaEnv.stdout + viaEnv.stderr).not.toContain(secret);
    }
    expect(traffic()).toEqual({ aws: [], cf: [] });
  });
});

describe('CI=true with the SQLite store inside the checkout', () => {
  let w: ApplyWorld;
  beforeAll(async () => {
    w = await startApplyWorld();
  });
  afterAll(async () => {
    await w?.close();
  });

  it('apply warns in one line that the lock and the audit trail are local to this runner', { timeout: 120_000 }, async () => {
    const res = await w.run(['apply', '--auto-approve'], { io: { env: { ...w.env, CI: 'true' } } });
    expect(res.code, res.stderr).toBe(0);
    const warnings = res.stderr.split('\n').filter((l) => l.includes('local to this runner'));
    expect(warnings).toEqual([
      `warning: the audit database ${w.db} is inside this checkout: on CI the lock and the audit trail are local to this runner (other jobs can apply at once, and the trail goes with the runner); pass --db postgres://… or set DATABASE_URL to share them`,
    ]);
    const quiet = await w.run(['apply', '--auto-approve']);
    expect(quiet.stderr).not.toContain('local to this runner');
  });
});
