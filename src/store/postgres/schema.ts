/**
 * The PostgreSQL side of the shared migrations (src/store/migrations.ts). The version lives in a
 * one-row `tenantform_schema` table (PostgreSQL has no user_version). Each step runs in its own
 * transaction (DDL is transactional here) under a transaction-level advisory lock, so two
 * processes opening a new database at once migrate it exactly once; a database a newer
 * tenantform has migrated is refused with one line, as on SQLite.
 */
import { ConfigError } from '../../errors.js';
import { MIGRATIONS, SCHEMA_VERSION } from '../migrations.js';
import { query, type PgContext } from './context.js';

const MIGRATION_LOCK = 'tenantform:schema';

export async function migrate(ctx: PgContext): Promise<void> {
  const client = await ctx.pool.connect();
  const q = (sql: string, params: unknown[] = []) => query<{ version: number }>(ctx, client, 'migrate', 'schema', sql, params);
  try {
    for (;;) {
      await q('BEGIN');
      try {
        await q(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [MIGRATION_LOCK]);
        await q(`CREATE TABLE IF NOT EXISTS tenantform_schema (one BOOLEAN PRIMARY KEY DEFAULT true CHECK (one), version INTEGER NOT NULL)`);
        const v = (await q(`SELECT version FROM tenantform_schema`)).rows[0]?.version ?? 0;
        if (v > SCHEMA_VERSION) {
          throw new ConfigError(`schema version ${v} is newer than this tenantform understands (${SCHEMA_VERSION}); upgrade tenantform`, {
            operation: 'migrate audit database',
          });
        }
        if (v < SCHEMA_VERSION) {
          await q(MIGRATIONS[v]!.postgres);
          await q(`INSERT INTO tenantform_schema (one, version) VALUES (true, $1) ON CONFLICT (one) DO UPDATE SET version = EXCLUDED.version`, [v + 1]);
        }
        await q('COMMIT');
        if (v + 1 >= SCHEMA_VERSION) return; // at the version now (v was, or v + 1 is)
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    }
  } finally {
    client.release();
  }
}
