/**
 * The audit schema's numbered migrations, one list for both stores: entry N brings a database
 * from version N-1 to N, on SQLite (version in the `user_version` pragma, src/store/sqlite-schema.ts)
 * and on PostgreSQL (version in the `tenantform_schema` table, src/store/postgres/schema.ts). Both
 * dialects hold the same tables, columns, constraints and indexes; each entry carries its SQL per
 * dialect only because the two differ (SQLite rebuilds a table to change a CHECK, has implicit
 * rowids and AUTOINCREMENT; PostgreSQL has identity columns and 64-bit BIGINT for epoch milliseconds).
 * A migration written once for both uses `common(sql)`.
 *
 * Migrations only ever append; a released entry is never edited. Times are ISO-8601 UTC text
 * (sortable); lease times are epoch milliseconds because they are compared arithmetically.
 */

export interface Migration {
  /** What the step adds, for readers of this file. */
  readonly description: string;
  readonly sqlite: string;
  readonly postgres: string;
}

/** A step whose SQL is the same on both dialects (plain CREATE TABLE/INDEX with TEXT and BIGINT columns). */
export function common(description: string, sql: string): Migration {
  return { description, sqlite: sql, postgres: sql };
}

export const MIGRATIONS: readonly Migration[] = [
  {
    description: 'runs, resource events, leases',
    sqlite: `
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
    // run_seq stands in for SQLite's implicit rowid: the order runs started in, as a tie-break.
    postgres: `
    CREATE TABLE runs (
      run_seq     BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
      run_id      TEXT PRIMARY KEY,
      command     TEXT NOT NULL,
      environment TEXT NOT NULL,
      git_commit  TEXT,
      started_at  TEXT NOT NULL,
      finished_at TEXT,
      status      TEXT NOT NULL CONSTRAINT runs_status CHECK (status IN ('running','succeeded','partial','failed','refused','interrupted')),
      exit_code   INTEGER,
      summary     TEXT,
      host        TEXT NOT NULL,
      pid         INTEGER NOT NULL
    );
    CREATE INDEX runs_started ON runs (started_at);

    CREATE TABLE tenant_resources (
      seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      run_id       TEXT NOT NULL,
      environment  TEXT NOT NULL,
      kind         TEXT NOT NULL,
      resource_id  TEXT NOT NULL,
      org_id       TEXT NOT NULL,
      workspace_id TEXT,
      slug         TEXT NOT NULL,
      state        TEXT NOT NULL CONSTRAINT tenant_resources_state CHECK (state IN ('created','deleted','failed')),
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
      acquired_at BIGINT NOT NULL,
      renewed_at  BIGINT NOT NULL,
      expires_at  BIGINT NOT NULL
    );
    `,
  },
  // 2: runs can be `abandoned` (when, by which run, why); resource events can be `adopted` or
  // `updated`, so `created` means this run made it. SQLite cannot change a CHECK constraint, so
  // both tables are rebuilt, keeping rowids (run order) and seqs (event order and claims).
  {
    description: 'abandoned runs; adopted and updated resource events',
    sqlite: `
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
    // PostgreSQL changes a CHECK constraint in place; rows keep their seq and run order as they are.
    postgres: `
    ALTER TABLE runs DROP CONSTRAINT runs_status;
    ALTER TABLE runs ADD CONSTRAINT runs_status CHECK (status IN ('running','succeeded','partial','failed','refused','interrupted','abandoned'));
    ALTER TABLE runs ADD COLUMN abandoned_at TEXT, ADD COLUMN abandoned_by TEXT,
      ADD COLUMN abandoned_reason TEXT CONSTRAINT runs_abandoned_reason CHECK (abandoned_reason IN ('expired','holderGone'));

    ALTER TABLE tenant_resources DROP CONSTRAINT tenant_resources_state;
    ALTER TABLE tenant_resources ADD CONSTRAINT tenant_resources_state CHECK (state IN ('created','adopted','updated','deleted','failed'));
    -- As on SQLite: the act step's own word in details.event picks the state of version 1's
    -- "created" rows. details is always JSON.stringify output; the regex keeps a cast from failing.
    UPDATE tenant_resources SET state = CASE (CASE WHEN details ~ '^\\s*\\{' THEN details::jsonb ->> 'event' END)
        WHEN 'adopted' THEN 'adopted' WHEN 'restored' THEN 'adopted'
        WHEN 'updated' THEN 'updated' WHEN 'started' THEN 'updated' WHEN 'stopped' THEN 'updated'
        WHEN 'resized' THEN 'updated' WHEN 'command' THEN 'updated'
        ELSE 'created' END
      WHERE state = 'created';
    `,
  },
  {
    description: 'first sightings (sweep --min-age) and deep-check marks (drift --budget rotation)',
    // first_seen: when the store first saw a resource the cloud gives no creation time (security
    // groups, bundles, DNS records), so `sweep --min-age` can tell an orphan from something an apply
    // is making (src/store/first-seen.ts). drift_deep_checks: when each tenant was last
    // deep-checked, so each `drift --budget` run takes the stalest first; `run_seq` orders runs
    // that share a timestamp (src/store/deep-checks.ts).
    sqlite: `
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
    postgres: `
    CREATE TABLE first_seen (
      environment TEXT NOT NULL,
      key         TEXT NOT NULL,
      seen_at     TEXT NOT NULL,
      PRIMARY KEY (environment, key)
    );
    CREATE TABLE drift_deep_checks (
      environment TEXT NOT NULL,
      org_id      TEXT NOT NULL,
      slug        TEXT NOT NULL,
      checked_at  TEXT NOT NULL,
      run_seq     BIGINT NOT NULL,
      PRIMARY KEY (environment, org_id)
    );
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS.length;
