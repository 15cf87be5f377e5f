/** PostgreSQL rows as the store's records: the shared row shapes and mappers (src/store/rows.ts). */
import type { LeaseHolder } from '../model.js';

export { toLease, toResource, toRun, type LeaseRow, type ResourceRow, type RunRow } from '../rows.js';

export function sameHolder(a: LeaseHolder, b: LeaseHolder): boolean {
  return a.host === b.host && a.pid === b.pid && a.runId === b.runId;
}
