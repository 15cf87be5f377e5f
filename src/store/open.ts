/**
 * Opens the audit store a location names. Only SQLite exists today; a PostgreSQL URL is
 * recognised so that configuring one fails with a clear message rather than creating a file
 * called "postgres:".
 */
import { ConfigError } from '../errors.js';
import type { AuditStore } from './model.js';
import { openSqliteStore, type SqliteStoreOptions } from './sqlite.js';

export function openAuditStore(location: string, opts: SqliteStoreOptions = {}): AuditStore {
  if (/^postgres(ql)?:\/\//i.test(location)) {
    throw new ConfigError('PostgreSQL audit stores are not implemented yet; use a SQLite file path', {
      operation: 'open audit database',
      resource: 'postgres URL',
    });
  }
  return openSqliteStore(location, opts);
}
