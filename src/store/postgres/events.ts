/** The `tenant_resources` table on PostgreSQL: resource events, history and claims. */
import type { History, HistoryQuery, ResourceEventInput, ResourceRecord } from '../model.js';
import { isoNow, json, optText, query, text, type PgContext } from './context.js';
import { toResource, toRun, type ResourceRow, type RunRow } from './rows.js';

const DEFAULT_HISTORY_LIMIT = 50;

export async function recordResource(ctx: PgContext, input: ResourceEventInput): Promise<ResourceRecord> {
  const r = (s: string) => text(ctx, s);
  const res = await query<ResourceRow>(
    ctx,
    ctx.pool,
    'record resource event',
    `${input.kind} ${input.resourceId}`,
    `INSERT INTO tenant_resources (run_id, environment, kind, resource_id, org_id, workspace_id, slug, state, git_commit, at, details)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING *`,
    [
      r(input.runId),
      r(input.environment),
      input.kind,
      r(input.resourceId),
      r(input.orgId),
      optText(ctx, input.workspaceId),
      r(input.slug),
      input.state,
      optText(ctx, input.gitCommit),
      isoNow(ctx),
      json(ctx, input.details),
    ],
  );
  return toResource(res.rows[0]!);
}

/** As on SQLite: runs with a slug or org filter are those that recorded an event for it. */
export async function history(ctx: PgContext, q: HistoryQuery = {}): Promise<History> {
  const limit = q.limit ?? DEFAULT_HISTORY_LIMIT;
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (column: string, value: string | undefined) => {
    if (value === undefined) return;
    params.push(value);
    where.push(`${column} = $${params.length}`);
  };
  add('slug', q.slug);
  add('org_id', q.orgId);
  add('environment', q.environment);
  const resourceWhere = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
  const resources = await query<ResourceRow>(
    ctx,
    ctx.pool,
    'read history',
    'resource events',
    `SELECT * FROM tenant_resources ${resourceWhere} ORDER BY seq DESC LIMIT $${params.length + 1}`,
    [...params, limit],
  );

  let runWhere = '';
  let runParams: unknown[] = [];
  if (q.slug !== undefined || q.orgId !== undefined) {
    runWhere = `WHERE run_id IN (SELECT run_id FROM tenant_resources ${resourceWhere})`;
    runParams = [...params];
  } else if (q.environment !== undefined) {
    runWhere = 'WHERE environment = $1';
    runParams = [q.environment];
  }
  const runs = await query<RunRow>(
    ctx,
    ctx.pool,
    'read history',
    'runs',
    `SELECT * FROM runs ${runWhere} ORDER BY started_at DESC, run_seq DESC LIMIT $${runParams.length + 1}`,
    [...runParams, limit],
  );
  return { runs: runs.rows.map(toRun), resources: resources.rows.map(toResource) };
}

export async function claims(ctx: PgContext, environment: string): Promise<ResourceRecord[]> {
  const res = await query<ResourceRow>(
    ctx,
    ctx.pool,
    'read claims',
    `environment ${environment}`,
    `SELECT r.* FROM tenant_resources r
     JOIN (SELECT MAX(seq) AS seq FROM tenant_resources
           WHERE environment = $1 AND state <> 'failed'
           GROUP BY kind, resource_id) latest ON latest.seq = r.seq
     WHERE r.state <> 'deleted'
     ORDER BY r.seq`,
    [environment],
  );
  return res.rows.map(toResource);
}
