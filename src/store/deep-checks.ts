/**
 * When each tenant was last deep-checked by `tenantform drift` (table drift_deep_checks, schema
 * step 3). A run reads the marks, deep-checks the stalest tenants its budget allows and records
 * them with the next run sequence number, so scheduled runs cover the fleet in rotation. Both
 * audit stores implement it (SQLite here, PostgreSQL in postgres/deep-checks.ts), so runners that
 * share a PostgreSQL store share one rotation.
 */
import type Database from 'better-sqlite3';

export interface DeepCheckMark {
  orgId: string;
  slug: string;
  checkedAt: string;
  /** Increases by one per recording run; orders runs that share a timestamp. */
  runSeq: number;
}

export interface DeepCheckMarks {
  deepCheckMarks(environment: string): Promise<DeepCheckMark[]>;
  /** Records one run's deep-checked tenants, all with the same (next) run sequence number. */
  recordDeepChecks(environment: string, checked: ReadonlyArray<{ orgId: string; slug: string }>, at: string): Promise<void>;
}

/** What `drift` needs of a store: the marks, and closing it. */
export interface DeepCheckStore {
  readonly location: string;
  marks(environment: string): Promise<DeepCheckMark[]>;
  record(environment: string, checked: ReadonlyArray<{ orgId: string; slug: string }>, at: string): Promise<void>;
  close(): Promise<void>;
}

/** The drift view of an open audit store. */
export function deepCheckStoreOf(store: DeepCheckMarks & { readonly location: string; close(): Promise<void> }): DeepCheckStore {
  return {
    location: store.location,
    marks: (environment) => store.deepCheckMarks(environment),
    record: (environment, checked, at) => store.recordDeepChecks(environment, checked, at),
    close: () => store.close(),
  };
}

interface MarkRow {
  org_id: string;
  slug: string;
  checked_at: string;
  run_seq: number;
}

export function deepCheckMarksSqlite(db: Database.Database, environment: string): DeepCheckMark[] {
  const rows = db.prepare('SELECT org_id, slug, checked_at, run_seq FROM drift_deep_checks WHERE environment = ?').all(environment) as MarkRow[];
  return rows.map((r) => ({ orgId: r.org_id, slug: r.slug, checkedAt: r.checked_at, runSeq: r.run_seq }));
}

export function recordDeepChecksSqlite(db: Database.Database, environment: string, checked: ReadonlyArray<{ orgId: string; slug: string }>, at: string): void {
  db.transaction(() => {
    const top = db.prepare('SELECT COALESCE(MAX(run_seq), 0) AS top FROM drift_deep_checks WHERE environment = ?').get(environment) as { top: number };
    const put = db.prepare(
      `INSERT INTO drift_deep_checks (environment, org_id, slug, checked_at, run_seq) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (environment, org_id) DO UPDATE SET slug = excluded.slug, checked_at = excluded.checked_at, run_seq = excluded.run_seq`,
    );
    for (const c of checked) put.run(environment, c.orgId, c.slug, at, top.top + 1);
  }).immediate();
}
