/**
 * When each tenant was last deep-checked by `tenantform drift` (table drift_deep_checks, schema
 * step 3). A run reads the marks, deep-checks the stalest tenants its budget allows and records
 * them with the next run sequence number, so scheduled runs cover the fleet in rotation.
 *
 * Opens its own connection to the audit database (WAL mode lets it sit beside apply's).
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError, describeCause, TenantformError } from '../errors.js';
import { migrate } from './sqlite-schema.js';

export interface DeepCheckMark {
  orgId: string;
  slug: string;
  checkedAt: string;
  /** Increases by one per recording run; orders runs that share a timestamp. */
  runSeq: number;
}

export interface DeepCheckStore {
  readonly location: string;
  marks(environment: string): Promise<DeepCheckMark[]>;
  /** Records one run's deep-checked tenants, all with the same (next) run sequence number. */
  record(environment: string, checked: ReadonlyArray<{ orgId: string; slug: string }>, at: string): Promise<void>;
  close(): Promise<void>;
}

interface MarkRow {
  org_id: string;
  slug: string;
  checked_at: string;
  run_seq: number;
}

export function openSqliteDeepCheckStore(path: string, opts: { busyTimeoutMs?: number } = {}): DeepCheckStore {
  let db: Database.Database;
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    db = new Database(path, { timeout: opts.busyTimeoutMs ?? 10_000 });
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    migrate(db);
  } catch (e) {
    if (e instanceof TenantformError) throw e;
    throw new ConfigError(describeCause(e), { operation: 'open audit database', resource: path, cause: e });
  }
  return {
    location: path,
    marks(environment) {
      const rows = db.prepare('SELECT org_id, slug, checked_at, run_seq FROM drift_deep_checks WHERE environment = ?').all(environment) as MarkRow[];
      return Promise.resolve(rows.map((r) => ({ orgId: r.org_id, slug: r.slug, checkedAt: r.checked_at, runSeq: r.run_seq })));
    },
    record(environment, checked, at) {
      db.transaction(() => {
        const top = db.prepare('SELECT COALESCE(MAX(run_seq), 0) AS top FROM drift_deep_checks WHERE environment = ?').get(environment) as { top: number };
        const put = db.prepare(
          `INSERT INTO drift_deep_checks (environment, org_id, slug, checked_at, run_seq) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (environment, org_id) DO UPDATE SET slug = excluded.slug, checked_at = excluded.checked_at, run_seq = excluded.run_seq`,
        );
        for (const c of checked) put.run(environment, c.orgId, c.slug, at, top.top + 1);
      }).immediate();
      return Promise.resolve();
    },
    close() {
      db.close();
      return Promise.resolve();
    },
  };
}
