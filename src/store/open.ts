/**
 * Opens the audit store a location names: a `postgres://` or `postgresql://` URL is the shared
 * PostgreSQL store, anything else that is not a URL a SQLite file. Any other scheme is refused
 * with a clear message, its password removed, rather than becoming a file called "mysql:".
 */
import type { AuditStore } from './model.js';
import { openPostgresStore } from './postgres/open.js';
import { openSqliteStore, type SqliteStoreOptions } from './sqlite.js';
import { isDbUrl, isPostgresUrl, unsupportedDbUrl } from './url.js';

export type AuditStoreOptions = SqliteStoreOptions;

export async function openAuditStore(location: string, opts: AuditStoreOptions = {}): Promise<AuditStore> {
  if (isPostgresUrl(location)) return openPostgresStore(location, { ...(opts.redactor ? { redactor: opts.redactor } : {}), ...(opts.now ? { now: opts.now } : {}) });
  if (isDbUrl(location)) throw unsupportedDbUrl(location);
  return openSqliteStore(location, opts);
}
