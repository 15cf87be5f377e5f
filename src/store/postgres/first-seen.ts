/** First sightings on PostgreSQL (table first_seen; see src/store/first-seen.ts for what they are for). */
import type { PgContext } from './context.js';
import { inTransaction, query } from './context.js';

export function recordSightings(ctx: PgContext, environment: string, keys: readonly string[], at: string, prune: boolean): Promise<Map<string, string>> {
  const op = 'record first sightings';
  const resource = `environment ${environment}`;
  return inTransaction(ctx, op, resource, async (client) => {
    // One statement for any number of keys: unnest the array rather than one INSERT per key.
    await query(ctx, client, op, resource, `INSERT INTO first_seen (environment, key, seen_at) SELECT $1, k, $3 FROM unnest($2::text[]) AS k ON CONFLICT DO NOTHING`, [
      environment,
      [...keys],
      at,
    ]);
    const rows = await query<{ key: string; seen_at: string }>(ctx, client, op, resource, 'SELECT key, seen_at FROM first_seen WHERE environment = $1', [environment]);
    const wanted = new Set(keys);
    const out = new Map<string, string>();
    for (const row of rows.rows) if (wanted.has(row.key)) out.set(row.key, row.seen_at);
    if (prune) await query(ctx, client, op, resource, 'DELETE FROM first_seen WHERE environment = $1 AND NOT (key = ANY($2::text[]))', [environment, [...keys]]);
    return out;
  });
}
