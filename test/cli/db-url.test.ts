/**
 * `--db postgres://…` (or TENANTFORM_DB set to any URL) is recognised before any path handling:
 * a PostgreSQL server that cannot be reached is exit 1 and one line, any other scheme is refused
 * the same way; no file is made, nothing is read or changed in the cloud, and the URL's password
 * appears in no output. (A real server, a wrong password: test/cli/postgres-store.test.ts.)
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { startApplyWorld, type ApplyWorld } from './apply-world.js';

// Port 1 on the loopback: nothing listens there, so the connection is refused at once.
const URL_SHORT = 'postgres://u:pw@127.0.0.1:1/x';
const URL_LONG = 'postgresql://tenantform:Sup3r-s3cret-pass@127.0.0.1:1/audit?sslmode=require';
const REFUSED = /^error: open audit database postgres(ql)?:\/\/[^ ]*:\[REDACTED\]@127\.0\.0\.1:1\/[^ ]*: connect ECONNREFUSED 127\.0\.0\.1:1\n$/;

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true }).map(String).sort();
}

describe('history with a database URL', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tenantform-dburl-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const [label, url, password] of [
    ['--db', URL_SHORT, 'pw'],
    ['--db (long password)', URL_LONG, 'Sup3r-s3cret-pass'],
  ] as const) {
    it(`${label}: exit 1, one line without the password, no file`, async () => {
      for (const extra of [[], ['--json']]) {
        const io = memoryIo({ cwd: dir });
        expect(await main(['history', '--db', url, ...extra], io)).toBe(1);
        expect(io.err.join('')).toMatch(REFUSED);
        if (extra.length === 0) expect(io.out).toEqual([]);
        // --json: the same error as JSON on stdout, redacted the same way.
        else expect(JSON.parse(io.out.join('')).error).toMatchObject({ operation: 'open audit database', exitCode: 1 });
        expect(io.err.join('') + io.out.join('')).not.toContain(password);
      }
      expect(files(dir)).toEqual([]);
    });
  }

  it('TENANTFORM_DB set to a URL of any scheme is refused the same way', async () => {
    const io = memoryIo({ cwd: dir, env: { TENANTFORM_DB: 'mysql://root:hunter2-long@db/x' } });
    expect(await main(['history'], io)).toBe(1);
    expect(io.err.join('')).toBe(
      'error: open audit database mysql://root:[REDACTED]@db/x: mysql:// URLs are not supported; use a postgres:// URL or a SQLite file path\n',
    );
    expect(files(dir)).toEqual([]);
  });
});

describe('apply with a database URL', () => {
  let w: ApplyWorld;
  beforeAll(async () => {
    w = await startApplyWorld();
  });
  afterAll(async () => {
    await w?.close();
  });

  for (const [url, password] of [
    [URL_SHORT, 'pw'],
    [URL_LONG, 'Sup3r-s3cret-pass'],
  ] as const) {
    it(`${url.split(':')[0]} URL: exit 1, one line without the password, no file, no cloud call`, async () => {
      const before = files(w.dir);
      const traffic = w.mark();
      const calls = w.aws.calls.length + w.cf.requests.length;
      for (const via of ['flag', 'env'] as const) {
        const io = memoryIo({ cwd: w.dir, env: via === 'env' ? { ...w.env, TENANTFORM_DB: url } : w.env });
        const code = await main(['apply', '--auto-approve', ...(via === 'flag' ? ['--db', url] : [])], io);
        expect(code, io.err.join('')).toBe(1);
        expect(io.err.join('')).toMatch(REFUSED);
        expect(io.out).toEqual([]);
        expect(io.err.join('') + io.out.join('')).not.toContain(password);
      }
      expect(files(w.dir)).toEqual(before);
      expect(traffic()).toEqual({ aws: [], cf: [] });
      // Not even a read: the store is opened before the fleet is observed.
      expect(w.aws.calls.length + w.cf.requests.length).toBe(calls);
    });
  }
});
