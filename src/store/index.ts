export * from './model.js';
export { openAuditStore } from './open.js';
export { openSqliteStore, SqliteAuditStore, type SqliteStoreOptions } from './sqlite.js';
export { SCHEMA_VERSION } from './sqlite-schema.js';
export { resolveDbPath, DB_ENV_VAR, DEFAULT_DB_RELATIVE_PATH, type DbPathInput, type ResolvedDbPath } from './path.js';
export { withLease, currentHolder, describeLease, holderProcessGone, DEFAULT_LEASE_TTL_MS, type WithLeaseOptions } from './lease.js';
export type { FirstSeenStore } from './first-seen.js';
