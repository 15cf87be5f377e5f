/** Deep-check marks on PostgreSQL (table drift_deep_checks; see src/store/deep-checks.ts). */
import type { DeepCheckMark } from '../deep-checks.js';
import type { PgContext } from './context.js';
import { inTransaction, query } from './context.js';

export async function deepCheckMarks(ctx: PgContext, environment: string): Promise<DeepCheckMark[]> {
  const res = await query<{ org_id: string; slug: string; checked_at: string; run_seq: string }>(
    ctx,
    ctx.pool,
    'read deep-check marks',
    `environment ${environment}`,
    'SELECT org_id, slug, checked_at, run_seq FROM drift_deep_checks WHERE environment = $1',
    [environment],
  );
  // BIGINT comes back as a string.
  return res.rows.map((r) => ({ orgId: r.org_id, slug: r.slug, checkedAt: r.checked_at, runSeq: Number(r.run_seq) }));
}

export function recordDeepChecks(ctx: PgContext, environment: string, checked: ReadonlyArray<{ orgId: string; slug: string }>, at: string): Promise<void> {
  const op = 'record deep checks';
  const resource = `environment ${environment}`;
  return inTransaction(ctx, op, resource, async (client) => {
    // Two runners recording at once must not share a sequence number: serialise on the environment.
    await query(ctx, client, op, resource, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`tenantform:deep-checks:${environment}`]);
    const top = await query<{ top: string }>(ctx, client, op, resource, 'SELECT COALESCE(MAX(run_seq), 0) AS top FROM drift_deep_checks WHERE environment = $1', [
      environment,
    ]);
    const seq = Number(top.rows[0]?.top ?? 0) + 1;
    for (const c of checked) {
      await query(
        ctx,
        client,
        op,
        resource,
        `INSERT INTO drift_deep_checks (environment, org_id, slug, checked_at, run_seq) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (environment, org_id) DO UPDATE SET slug = excluded.slug, checked_at = excluded.checked_at, run_seq = excluded.run_seq`,
        [environment, c.orgId, c.slug, at, seq],
      );
    }
  });
}
