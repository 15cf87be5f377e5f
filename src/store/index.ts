export * from './model.js';
export { openAuditStore, type AuditStoreOptions } from './open.js';
export { openPostgresStore, type PostgresStoreOptions } from './postgres/open.js';
export { openSqliteStore, SqliteAuditStore, type SqliteStoreOptions } from './sqlite.js';
export { SCHEMA_VERSION } from './migrations.js';
export { resolveDbPath, DB_ENV_VAR, DATABASE_URL_VAR, DEFAULT_DB_RELATIVE_PATH, type DbPathInput, type ResolvedDbPath } from './path.js';
export { withLease, currentHolder, describeLease, holderProcessGone, DEFAULT_LEASE_TTL_MS, type WithLeaseOptions } from './lease.js';
export type { FirstSeenStore } from './first-seen.js';
