/**
 * The audit tables' rows as both stores read them, and their mapping to the store model's records
 * (src/store/model.ts). The columns are the same on SQLite and PostgreSQL (src/store/migrations.ts);
 * 64-bit integer columns arrive as numbers from SQLite and as strings from pg (which does not guess
 * at 64-bit numbers), so they are typed as either and read with Number(). Strings were redacted on
 * the way in; nothing here writes.
 */
import type { AuditResourceKind, Lease, ReclaimReason, ResourceRecord, ResourceState, RunRecord, RunStatus } from './model.js';

export interface RunRow {
  run_id: string;
  command: string;
  environment: string;
  git_commit: string | null;
  started_at: string;
  finished_at: string | null;
  status: string;
  exit_code: number | null;
  summary: string | null;
  host: string;
  pid: number;
  abandoned_at: string | null;
  abandoned_by: string | null;
  abandoned_reason: string | null;
}

export interface ResourceRow {
  seq: number | string;
  run_id: string;
  environment: string;
  kind: string;
  resource_id: string;
  org_id: string;
  workspace_id: string | null;
  slug: string;
  state: string;
  git_commit: string | null;
  at: string;
  details: string | null;
}

export interface LeaseRow {
  environment: string;
  host: string;
  pid: number;
  run_id: string;
  started_at: string;
  acquired_at: number | string;
  renewed_at: number | string;
  expires_at: number | string;
}

function parseJson(text: string | null): unknown {
  return text === null ? undefined : (JSON.parse(text) as unknown);
}

export function toRun(row: RunRow): RunRecord {
  return {
    runId: row.run_id,
    command: row.command,
    environment: row.environment,
    gitCommit: row.git_commit ?? undefined,
    startedAt: row.started_at,
    finishedAt: row.finished_at ?? undefined,
    status: row.status as RunStatus,
    exitCode: row.exit_code ?? undefined,
    summary: parseJson(row.summary),
    host: row.host,
    pid: row.pid,
    abandoned:
      row.abandoned_at !== null && row.abandoned_by !== null
        ? { at: row.abandoned_at, byRunId: row.abandoned_by, reason: row.abandoned_reason as ReclaimReason }
        : undefined,
  };
}

export function toResource(row: ResourceRow): ResourceRecord {
  return {
    seq: Number(row.seq),
    runId: row.run_id,
    environment: row.environment,
    kind: row.kind as AuditResourceKind,
    resourceId: row.resource_id,
    orgId: row.org_id,
    workspaceId: row.workspace_id ?? undefined,
    slug: row.slug,
    state: row.state as ResourceState,
    gitCommit: row.git_commit ?? undefined,
    at: row.at,
    details: parseJson(row.details),
  };
}

export function toLease(row: LeaseRow): Lease {
  return {
    environment: row.environment,
    holder: { host: row.host, pid: row.pid, runId: row.run_id, startedAt: row.started_at },
    acquiredAt: Number(row.acquired_at),
    renewedAt: Number(row.renewed_at),
    expiresAt: Number(row.expires_at),
  };
}
