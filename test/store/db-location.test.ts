/** Which store a command opens (--db, TENANTFORM_DB, DATABASE_URL) and when apply warns on CI that its SQLite store is local. */
import { describe, expect, it } from 'vitest';
import { localStoreWarning } from '../../src/app/ci-warning.js';
import { memoryIo } from '../../src/cli/io.js';
import { dbFile } from '../../src/cli/options.js';
import { Redactor } from '../../src/redact.js';
import { resolveDbPath } from '../../src/store/path.js';

describe('DATABASE_URL', () => {
  const pgUrl = 'postgres://tf:s3cret-pass-word@db:5432/audit';
  it('selects PostgreSQL when it is a postgres:// URL and nothing more specific is set', () => {
    expect(resolveDbPath({ env: { DATABASE_URL: pgUrl }, repoDir: '/repo', cwd: '/work' })).toEqual({ url: pgUrl, source: 'databaseUrl' });
    expect(resolveDbPath({ env: { DATABASE_URL: pgUrl.replace('postgres:', 'postgresql:') }, repoDir: '/repo', cwd: '/work' })).toMatchObject({ source: 'databaseUrl' });
    expect(resolveDbPath({ flag: 'a.db', env: { DATABASE_URL: pgUrl }, repoDir: '/repo', cwd: '/work' })).toEqual({ path: '/work/a.db', source: 'flag' });
    expect(resolveDbPath({ env: { TENANTFORM_DB: 'b.db', DATABASE_URL: pgUrl }, repoDir: '/repo', cwd: '/work' })).toEqual({ path: '/work/b.db', source: 'env' });
  });

  it('is left alone when it names another kind of database (it belongs to something else)', () => {
    expect(resolveDbPath({ env: { DATABASE_URL: 'mysql://root:pw@db/app' }, repoDir: '/repo', cwd: '/work' })).toEqual({
      path: '/repo/.tenantform/state.db',
      source: 'repo',
    });
  });

  it('has its password registered with the redactor by every command taking --db, even when another store is chosen', () => {
    const redactor = new Redactor();
    const io = memoryIo({ cwd: '/work', env: { DATABASE_URL: pgUrl } });
    expect(dbFile(io, { db: '/x/state.db' }, redactor)).toBe('/x/state.db');
    expect(redactor.redact(`failed: ${pgUrl}`)).toBe('failed: postgres://tf:[REDACTED]@db:5432/audit');
    expect(dbFile(io, {}, redactor)).toBe(pgUrl);
  });
});

describe('the CI warning about a local store', () => {
  const sqlite = (location: string) => ({ kind: 'sqlite' as const, location });
  it('is given on CI for a SQLite file inside the checkout, in one line', () => {
    const w = localStoreWarning(sqlite('/ci/fleet/.tenantform/state.db'), '/ci/fleet', true);
    expect(w).toContain('/ci/fleet/.tenantform/state.db is inside this checkout: on CI the lock and the audit trail are local to this runner');
    expect(w).not.toContain('\n');
  });

  it('is not given off CI, for a file outside the checkout, in memory, or for PostgreSQL', () => {
    expect(localStoreWarning(sqlite('/ci/fleet/.tenantform/state.db'), '/ci/fleet', false)).toBeUndefined();
    expect(localStoreWarning(sqlite('/var/lib/tenantform/state.db'), '/ci/fleet', true)).toBeUndefined();
    expect(localStoreWarning(sqlite('/ci/fleet-other/state.db'), '/ci/fleet', true)).toBeUndefined();
    expect(localStoreWarning(sqlite(':memory:'), '/ci/fleet', true)).toBeUndefined();
    expect(localStoreWarning({ kind: 'postgres', location: 'postgres://tf:[REDACTED]@db/audit' }, '/ci/fleet', true)).toBeUndefined();
  });
});
