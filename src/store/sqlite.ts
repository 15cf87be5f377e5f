/**
 * The default audit store: one SQLite file (better-sqlite3) in WAL mode, so readers (history)
 * never block the writer (apply), with a busy timeout so concurrent processes queue instead of
 * failing. Every string and JSON value is redacted on the way in.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError, describeCause, InternalError, TenantformError } from '../errors.js';
import { Redactor } from '../redact.js';
import type {
  AcquireOptions,
  AcquireResult,
  AuditStore,
  FinishRunInput,
  History,
  HistoryQuery,
  Lease,
  LeaseHolder,
  ResourceEventInput,
  ResourceRecord,
  ReclaimReason,
  RunRecord,
  StartRunInput,
} from './model.js';
import { sameHolder, toLease, toResource, toRun, type LeaseRow, type ResourceRow, type RunRow } from './sqlite-rows.js';
import { migrate } from './sqlite-schema.js';
import { deepCheckMarksSqlite, recordDeepChecksSqlite, type DeepCheckMark } from './deep-checks.js';
import { recordSightingsSqlite } from './first-seen.js';

export interface SqliteStoreOptions {
  /**
   * Scrubs every text and detail written. Default: a redactor of this store's own that knows no
   * values (it still replaces whatever sits under a secret-looking key); never a process-wide one.
   */
  redactor?: Redactor;
  /** Epoch milliseconds; injectable so lease expiry can be tested without waiting. */
  now?: () => number;
  /** How long a write waits for another process's transaction before failing. */
  busyTimeoutMs?: number;
}

const DEFAULT_HISTORY_LIMIT = 50;

/** Opens (creating the file and its folder when missing) and migrates a SQLite audit store. */
export function openSqliteStore(path: string, opts: SqliteStoreOptions = {}): SqliteAuditStore {
  let db: Database.Database;
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    db = new Database(path, { timeout: opts.busyTimeoutMs ?? 10_000 });
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db);
  } catch (cause) {
    // A ConfigError of the migration already says why; this names the database file.
    const detail = cause instanceof ConfigError ? cause.detail : describeCause(cause);
    throw new ConfigError(detail, { operation: 'open audit database', resource: path, cause });
  }
  return new SqliteAuditStore(db, path, opts);
}

export class SqliteAuditStore implements AuditStore {
  readonly kind = 'sqlite';
  private readonly redactor: Redactor;
  private readonly now: () => number;

  constructor(
    private readonly db: Database.Database,
    readonly location: string,
    opts: SqliteStoreOptions = {},
  ) {
    this.redactor = opts.redactor ?? new Redactor();
    this.now = opts.now ?? Date.now;
  }

  async startRun(input: StartRunInput): Promise<RunRecord> {
    const r = this.text;
    this.write('start run', input.runId, () =>
      this.db
        .prepare(
          `INSERT INTO runs (run_id, command, environment, git_commit, started_at, status, host, pid)
           VALUES (?, ?, ?, ?, ?, 'running', ?, ?)`,
        )
        .run(r(input.runId), r(input.command), r(input.environment), this.optText(input.gitCommit), this.isoNow(), r(input.host), input.pid),
    );
    return this.run(input.runId);
  }

  async finishRun(input: FinishRunInput): Promise<RunRecord> {
    const info = this.write('finish run', input.runId, () =>
      this.db
        .prepare(`UPDATE runs SET finished_at = ?, status = ?, exit_code = ?, summary = ? WHERE run_id = ?`)
        .run(this.isoNow(), input.status, input.exitCode, this.json(input.summary), this.text(input.runId)),
    );
    if (info.changes !== 1) {
      throw new InternalError('no such run', { operation: 'finish run', resource: this.text(input.runId) });
    }
    return this.run(input.runId);
  }

  async recordResource(input: ResourceEventInput): Promise<ResourceRecord> {
    const r = this.text;
    const info = this.write('record resource event', `${input.kind} ${input.resourceId}`, () =>
      this.db
        .prepare(
          `INSERT INTO tenant_resources
             (run_id, environment, kind, resource_id, org_id, workspace_id, slug, state, git_commit, at, details)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          r(input.runId),
          r(input.environment),
          input.kind,
          r(input.resourceId),
          r(input.orgId),
          this.optText(input.workspaceId),
          r(input.slug),
          input.state,
          this.optText(input.gitCommit),
          this.isoNow(),
          this.json(input.details),
        ),
    );
    const row = this.db.prepare(`SELECT * FROM tenant_resources WHERE seq = ?`).get(info.lastInsertRowid) as ResourceRow;
    return toResource(row);
  }

  async history(query: HistoryQuery = {}): Promise<History> {
    const limit = query.limit ?? DEFAULT_HISTORY_LIMIT;
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.slug !== undefined) {
      where.push('slug = ?');
      params.push(query.slug);
    }
    if (query.orgId !== undefined) {
      where.push('org_id = ?');
      params.push(query.orgId);
    }
    if (query.environment !== undefined) {
      where.push('environment = ?');
      params.push(query.environment);
    }
    const resourceWhere = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const resources = this.db.prepare(`SELECT * FROM tenant_resources ${resourceWhere} ORDER BY seq DESC LIMIT ?`).all(...params, limit) as ResourceRow[];

    const runWhere: string[] = [];
    const runParams: unknown[] = [];
    if (query.slug !== undefined || query.orgId !== undefined) {
      runWhere.push(`run_id IN (SELECT run_id FROM tenant_resources ${resourceWhere})`);
      runParams.push(...params);
    } else if (query.environment !== undefined) {
      runWhere.push('environment = ?');
      runParams.push(query.environment);
    }
    const runs = this.db
      .prepare(
        `SELECT * FROM runs ${runWhere.length > 0 ? `WHERE ${runWhere.join(' AND ')}` : ''}
         ORDER BY started_at DESC, rowid DESC LIMIT ?`,
      )
      .all(...runParams, limit) as RunRow[];
    return { runs: runs.map(toRun), resources: resources.map(toResource) };
  }

  async claims(environment: string): Promise<ResourceRecord[]> {
    const rows = this.db
      .prepare(
        `SELECT r.* FROM tenant_resources r
         JOIN (SELECT MAX(seq) AS seq FROM tenant_resources
               WHERE environment = ? AND state <> 'failed'
               GROUP BY kind, resource_id) latest ON latest.seq = r.seq
         WHERE r.state <> 'deleted'
         ORDER BY r.seq`,
      )
      .all(environment) as ResourceRow[];
    return rows.map(toResource);
  }

  async recordSightings(environment: string, keys: readonly string[], at: string, opts: { prune?: boolean } = {}): Promise<Map<string, string>> {
    return this.write('record first sightings', `environment ${environment}`, () => recordSightingsSqlite(this.db, environment, keys, at, opts.prune ?? false));
  }

  async deepCheckMarks(environment: string): Promise<DeepCheckMark[]> {
    return this.write('read deep-check marks', `environment ${environment}`, () => deepCheckMarksSqlite(this.db, environment));
  }

  async recordDeepChecks(environment: string, checked: ReadonlyArray<{ orgId: string; slug: string }>, at: string): Promise<void> {
    this.write('record deep checks', `environment ${environment}`, () => recordDeepChecksSqlite(this.db, environment, checked, at));
  }

  async acquireLease(env: string, holder: LeaseHolder, ttlMs: number, opts: AcquireOptions = {}): Promise<AcquireResult> {
    const environment = this.text(env);
    const h = this.holder(holder);
    return this.write('acquire lease', `environment ${environment}`, () =>
      this.db
        .transaction((): AcquireResult => {
          const now = this.now();
          const row = this.leaseRow(environment);
          const mine = row !== undefined && sameHolder(row, h);
          let reason: ReclaimReason | undefined;
          if (row && !mine) {
            if (row.expires_at <= now) reason = 'expired';
            else if (opts.holderGone?.(toLease(row).holder)) reason = 'holderGone';
            else return { acquired: false, current: toLease(row) };
            // The old holder's run can no longer finish: say so, and who took over. A run that did
            // record its end (then died before releasing) keeps what it recorded.
            this.db
              .prepare(`UPDATE runs SET status = 'abandoned', abandoned_at = ?, abandoned_by = ?, abandoned_reason = ? WHERE run_id = ? AND status = 'running'`)
              .run(new Date(now).toISOString(), h.runId, reason, row.run_id);
          }
          const acquiredAt = mine ? row.acquired_at : now;
          this.db
            .prepare(
              `INSERT OR REPLACE INTO leases (environment, host, pid, run_id, started_at, acquired_at, renewed_at, expires_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
            )
            .run(environment, h.host, h.pid, h.runId, h.startedAt, acquiredAt, now, now + ttlMs);
          return { acquired: true, lease: toLease(this.leaseRow(environment)!), reclaimed: row && reason ? { ...toLease(row), reason } : undefined };
        })
        .immediate(),
    );
  }

  async renewLease(env: string, holder: LeaseHolder, ttlMs: number): Promise<boolean> {
    const environment = this.text(env);
    const h = this.holder(holder);
    const now = this.now();
    const info = this.write('renew lease', `environment ${environment}`, () =>
      this.db
        .prepare(`UPDATE leases SET renewed_at = ?, expires_at = ? WHERE environment = ? AND host = ? AND pid = ? AND run_id = ?`)
        .run(now, now + ttlMs, environment, h.host, h.pid, h.runId),
    );
    return info.changes === 1;
  }

  async releaseLease(env: string, holder: LeaseHolder): Promise<boolean> {
    const environment = this.text(env);
    const h = this.holder(holder);
    const info = this.write('release lease', `environment ${environment}`, () =>
      this.db.prepare(`DELETE FROM leases WHERE environment = ? AND host = ? AND pid = ? AND run_id = ?`).run(environment, h.host, h.pid, h.runId),
    );
    return info.changes === 1;
  }

  async currentLease(environment: string): Promise<Lease | undefined> {
    const row = this.leaseRow(this.text(environment));
    return row ? toLease(row) : undefined;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private run(runId: string): RunRecord {
    const row = this.db.prepare(`SELECT * FROM runs WHERE run_id = ?`).get(this.text(runId)) as RunRow | undefined;
    if (!row) throw new InternalError('no such run', { operation: 'read run', resource: this.text(runId) });
    return toRun(row);
  }

  private leaseRow(environment: string): LeaseRow | undefined {
    return this.db.prepare(`SELECT * FROM leases WHERE environment = ?`).get(environment) as LeaseRow | undefined;
  }

  /** Holder fields are stored redacted, so they are compared redacted too. */
  private holder(h: LeaseHolder): LeaseHolder {
    return { host: this.text(h.host), pid: h.pid, runId: this.text(h.runId), startedAt: this.text(h.startedAt) };
  }

  /** SQLite failures (disk full, locked past the busy timeout) become errors naming the operation. */
  private write<T>(operation: string, resource: string, fn: () => T): T {
    try {
      return fn();
    } catch (cause) {
      if (cause instanceof TenantformError) throw cause;
      const where = `${this.text(resource)} in audit database ${this.location}`;
      throw new TenantformError(this.text(describeCause(cause)), { operation, resource: where, cause });
    }
  }

  private readonly text = (s: string): string => this.redactor.redact(s);

  private optText(s: string | undefined): string | null {
    return s === undefined ? null : this.text(s);
  }

  private json(value: unknown): string | null {
    return value === undefined ? null : JSON.stringify(this.redactor.redactDeep(value));
  }

  private isoNow(): string {
    return new Date(this.now()).toISOString();
  }
}
