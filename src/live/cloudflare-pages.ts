/**
 * Page through a Cloudflare v4 list, stopping as soon as the envelope says we are done. The SDK's
 * own iterator stops only on an empty page, which costs one extra request per listing against the
 * 1,200-per-5-minutes account budget.
 */
import type { CloudflarePage } from './readers.js';

/** Safety stop for a server that ignores `page` (it would otherwise loop forever). */
const MAX_PAGES = 10_000;

export async function fetchAllPages<T>(fetch: (page: number) => Promise<CloudflarePage<T>>): Promise<T[]> {
  const out: T[] = [];
  for (let page = 1; page <= MAX_PAGES; page++) {
    const res = await fetch(page);
    out.push(...res.items);
    if (res.items.length === 0) break;
    // Prefer the server's count; otherwise a short page (against the per_page it applied) is the last.
    if (res.totalPages !== undefined ? page >= res.totalPages : res.items.length < res.perPage) break;
  }
  return out;
}
