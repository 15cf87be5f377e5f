/**
 * Opens the audit store a location names. Only SQLite exists today; a URL (PostgreSQL or any
 * other scheme) is recognised so that configuring one fails with a clear message, its password
 * removed, rather than creating a file called "postgres:".
 */
import type { AuditStore } from './model.js';
import { openSqliteStore, type SqliteStoreOptions } from './sqlite.js';
import { isDbUrl, unsupportedDbUrl } from './url.js';

export function openAuditStore(location: string, opts: SqliteStoreOptions = {}): AuditStore {
  if (isDbUrl(location)) throw unsupportedDbUrl(location);
  return openSqliteStore(location, opts);
}
