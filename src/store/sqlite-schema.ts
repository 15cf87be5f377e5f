/**
 * SQLite schema, versioned with the `user_version` pragma. Migrations only ever append: a
 * released database is upgraded in place by running the steps past its version, each in its own
 * transaction. Times are ISO-8601 UTC text (sortable); lease times are epoch milliseconds because
 * they are compared arithmetically.
 */
import type Database from 'better-sqlite3';
import { ConfigError } from '../errors.js';

/** Exported so a test can build a database as an older release left it. */
export const MIGRATIONS: readonly string[] = [
  // 1: runs, resource events, leases.
  `
  CREATE TABLE runs (
    run_id      TEXT PRIMARY KEY,
    command     TEXT NOT NULL,
    environment TEXT NOT NULL,
    git_commit  TEXT,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    status      TEXT NOT NULL CHECK (status IN ('running','succeeded','partial','failed','refused','interrupted')),
    exit_code   INTEGER,
    summary     TEXT,
    host        TEXT NOT NULL,
    pid         INTEGER NOT NULL
  );
  CREATE INDEX runs_started ON runs (started_at);

  CREATE TABLE tenant_resources (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id       TEXT NOT NULL,
    environment  TEXT NOT NULL,
    kind         TEXT NOT NULL,
    resource_id  TEXT NOT NULL,
    org_id       TEXT NOT NULL,
    workspace_id TEXT,
    slug         TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('created','deleted','failed')),
    git_commit   TEXT,
    at           TEXT NOT NULL,
    details      TEXT
  );
  CREATE INDEX tenant_resources_claim ON tenant_resources (environment, kind, resource_id, seq);
  CREATE INDEX tenant_resources_slug ON tenant_resources (slug, seq);
  CREATE INDEX tenant_resources_org ON tenant_resources (org_id, seq);
  CREATE INDEX tenant_resources_run ON tenant_resources (run_id);

  CREATE TABLE leases (
    environment TEXT PRIMARY KEY,
    host        TEXT NOT NULL,
    pid         INTEGER NOT NULL,
    run_id      TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    acquired_at INTEGER NOT NULL,
    renewed_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
  );
  `,
  // 2: runs can be `abandoned` (when, by which run, why); resource events can be `adopted` or
  // `updated`, so `created` means this run made it. SQLite cannot change a CHECK constraint, so
  // both tables are rebuilt, keeping rowids (run order) and seqs (event order and claims).
  `
  ALTER TABLE runs RENAME TO runs_v1;
  CREATE TABLE runs (
    run_id           TEXT PRIMARY KEY,
    command          TEXT NOT NULL,
    environment      TEXT NOT NULL,
    git_commit       TEXT,
    started_at       TEXT NOT NULL,
    finished_at      TEXT,
    status           TEXT NOT NULL CHECK (status IN ('running','succeeded','partial','failed','refused','interrupted','abandoned')),
    exit_code        INTEGER,
    summary          TEXT,
    host             TEXT NOT NULL,
    pid              INTEGER NOT NULL,
    abandoned_at     TEXT,
    abandoned_by     TEXT,
    abandoned_reason TEXT CHECK (abandoned_reason IN ('expired','holderGone'))
  );
  INSERT INTO runs (rowid, run_id, command, environment, git_commit, started_at, finished_at, status, exit_code, summary, host, pid)
    SELECT rowid, run_id, command, environment, git_commit, started_at, finished_at, status, exit_code, summary, host, pid FROM runs_v1 ORDER BY rowid;
  DROP TABLE runs_v1;
  CREATE INDEX runs_started ON runs (started_at);

  ALTER TABLE tenant_resources RENAME TO tenant_resources_v1;
  CREATE TABLE tenant_resources (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id       TEXT NOT NULL,
    environment  TEXT NOT NULL,
    kind         TEXT NOT NULL,
    resource_id  TEXT NOT NULL,
    org_id       TEXT NOT NULL,
    workspace_id TEXT,
    slug         TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('created','adopted','updated','deleted','failed')),
    git_commit   TEXT,
    at           TEXT NOT NULL,
    details      TEXT
  );
  -- Version 1 filed every "exists and is ours" event as created, with the act step's own word in
  -- details.event (a closed set); that word now picks the state, so old history reads true too.
  INSERT INTO tenant_resources (seq, run_id, environment, kind, resource_id, org_id, workspace_id, slug, state, git_commit, at, details)
    SELECT seq, run_id, environment, kind, resource_id, org_id, workspace_id, slug,
           CASE WHEN state <> 'created' THEN state
                ELSE CASE (CASE WHEN json_valid(details) THEN json_extract(details, '$.event') END)
                       WHEN 'adopted' THEN 'adopted' WHEN 'restored' THEN 'adopted'
                       WHEN 'updated' THEN 'updated' WHEN 'started' THEN 'updated' WHEN 'stopped' THEN 'updated'
                       WHEN 'resized' THEN 'updated' WHEN 'command' THEN 'updated'
                       ELSE 'created' END
           END,
           git_commit, at, details
    FROM tenant_resources_v1 ORDER BY seq;
  DROP TABLE tenant_resources_v1;
  CREATE INDEX tenant_resources_claim ON tenant_resources (environment, kind, resource_id, seq);
  CREATE INDEX tenant_resources_slug ON tenant_resources (slug, seq);
  CREATE INDEX tenant_resources_org ON tenant_resources (org_id, seq);
  CREATE INDEX tenant_resources_run ON tenant_resources (run_id);
  `,
  // 3 (issue 10): two tables for the scheduled sweeps.
  // first_seen: when the store first saw a resource, for the kinds the cloud gives no creation time
  // (security groups, bundles, DNS records), so `sweep --min-age` can tell an orphan from something
  // an apply is making (src/store/first-seen.ts).
  // drift_deep_checks: when each tenant was last deep-checked, so each `drift --budget` run takes the
  // stalest tenants first; `run_seq` orders runs even when two share a timestamp (src/store/deep-checks.ts).
  `
  CREATE TABLE first_seen (
    environment TEXT NOT NULL,
    key         TEXT NOT NULL,
    seen_at     TEXT NOT NULL,
    PRIMARY KEY (environment, key)
  ) WITHOUT ROWID;
  CREATE TABLE drift_deep_checks (
    environment TEXT NOT NULL,
    org_id      TEXT NOT NULL,
    slug        TEXT NOT NULL,
    checked_at  TEXT NOT NULL,
    run_seq     INTEGER NOT NULL,
    PRIMARY KEY (environment, org_id)
  );
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the database to SCHEMA_VERSION. The version is re-read inside an IMMEDIATE transaction,
 * so two processes opening a new file at once migrate it exactly once.
 */
export function migrate(db: Database.Database): void {
  const current = () => db.pragma('user_version', { simple: true }) as number;
  if (current() > SCHEMA_VERSION) {
    throw new ConfigError(`schema version ${current()} is newer than this tenantform understands (${SCHEMA_VERSION}); upgrade tenantform`, {
      operation: 'migrate audit database',
    });
  }
  for (;;) {
    const done = db
      .transaction(() => {
        const v = current();
        if (v >= SCHEMA_VERSION) return true;
        db.exec(MIGRATIONS[v]!);
        db.pragma(`user_version = ${v + 1}`);
        return false;
      })
      .immediate();
    if (done) return;
  }
}
