/**
 * The SQLite store's rows: the shared row shapes and mappers (src/store/rows.ts), with the lease
 * row's times as the numbers SQLite returns (the store compares them arithmetically).
 */
import type { LeaseHolder } from './model.js';
import type { LeaseRow as AnyLeaseRow } from './rows.js';

export { toLease, toResource, toRun, type ResourceRow, type RunRow } from './rows.js';

export interface LeaseRow extends AnyLeaseRow {
  acquired_at: number;
  renewed_at: number;
  expires_at: number;
}

export function sameHolder(row: LeaseRow, h: LeaseHolder): boolean {
  return row.host === h.host && row.pid === h.pid && row.run_id === h.runId;
}
