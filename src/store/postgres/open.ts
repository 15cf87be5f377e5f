/**
 * Opens a PostgreSQL audit store from a `postgres://` or `postgresql://` URL (libpq's form, as
 * pg reads it) and brings its schema to this release's version. A small pool serves ordinary
 * statements; each held lease gets a connection of its own (src/store/postgres/leases.ts).
 * Messages name the database by its URL with the password replaced.
 */
import pg from 'pg';
import { ConfigError, TenantformError } from '../../errors.js';
import { Redactor } from '../../redact.js';
import { dbUrlSecrets, displayDbLocation } from '../url.js';
import { describePgError, type PgContext } from './context.js';
import { migrate } from './schema.js';
import { PostgresAuditStore } from './store.js';

export interface PostgresStoreOptions {
  /** Scrubs every value written and every error; the URL's password is registered in it. */
  redactor?: Redactor;
  /** Epoch milliseconds; injectable so tests can control recorded times. */
  now?: () => number;
  /** Connections the pool may open (leases take their own on top). */
  poolSize?: number;
  connectTimeoutMs?: number;
}

export async function openPostgresStore(url: string, opts: PostgresStoreOptions = {}): Promise<PostgresAuditStore> {
  const redactor = opts.redactor ?? new Redactor();
  for (const s of dbUrlSecrets(url)) redactor.register(s);
  const location = displayDbLocation(url);
  const config: pg.ClientConfig = { connectionString: url, application_name: 'tenantform', connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000 };
  const pool = new pg.Pool({ ...config, max: opts.poolSize ?? 4 });
  // An idle pooled connection the server drops must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  const ctx: PgContext = {
    pool,
    connect: async () => {
      const client = new pg.Client(config);
      client.on('error', () => undefined);
      await client.connect();
      return client;
    },
    redactor,
    now: opts.now ?? Date.now,
    location,
  };
  try {
    await migrate(ctx);
  } catch (cause) {
    await pool.end().catch(() => undefined);
    const detail = cause instanceof TenantformError ? cause.detail : redactor.redact(describePgError(cause));
    throw new ConfigError(detail, { operation: 'open audit database', resource: location, cause });
  }
  return new PostgresAuditStore(ctx, pool);
}
