/**
 * SQLite schema, versioned with the `user_version` pragma. The migrations are shared with
 * PostgreSQL (src/store/migrations.ts): a released database is upgraded in place by running the
 * steps past its version, each in its own transaction.
 */
import type Database from 'better-sqlite3';
import { ConfigError } from '../errors.js';
import { MIGRATIONS as SHARED_MIGRATIONS, SCHEMA_VERSION } from './migrations.js';

/** The SQLite text of each shared migration; exported so a test can build a database as an older release left it. */
export const MIGRATIONS: readonly string[] = SHARED_MIGRATIONS.map((m) => m.sqlite);

export { SCHEMA_VERSION };

/**
 * Brings the database to SCHEMA_VERSION. The version is re-read inside an IMMEDIATE transaction,
 * so two processes opening a new file at once migrate it exactly once.
 */
export function migrate(db: Database.Database): void {
  const current = () => db.pragma('user_version', { simple: true }) as number;
  if (current() > SCHEMA_VERSION) {
    throw new ConfigError(`schema version ${current()} is newer than this tenantform understands (${SCHEMA_VERSION}); upgrade tenantform`, {
      operation: 'migrate audit database',
    });
  }
  for (;;) {
    const done = db
      .transaction(() => {
        const v = current();
        if (v >= SCHEMA_VERSION) return true;
        db.exec(MIGRATIONS[v]!);
        db.pragma(`user_version = ${v + 1}`);
        return false;
      })
      .immediate();
    if (done) return;
  }
}
