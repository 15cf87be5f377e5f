/**
 * Cloudflare tunnel observer: live (`is_deleted=false`) tunnels whose names carry this
 * environment's prefix. Only the list endpoint is read; per-tunnel reads (ingress configuration,
 * connections) cost one request each and belong to the drift sweep, not to plan.
 */
import type { CloudflareTunnel } from 'cloudflare/resources/shared';
import { tunnelEnvPrefix, tunnelSlugPrefix } from '../contract.js';
import { CloudError, describeCause } from '../errors.js';
import { fetchAllPages } from './cloudflare-pages.js';
import type { LiveTunnel } from './model.js';
import type { CloudflareReader } from './readers.js';

/** The tunnel list's maximum page size. */
const PAGE_SIZE = 1000;

export interface TunnelScope {
  environment: string;
  /** Scoped plan: one prefix listing per slug (finds a purged org's leftovers under the same slug too). */
  slugs?: readonly string[];
}

export async function observeTunnels(reader: CloudflareReader, scope: TunnelScope): Promise<CloudflareTunnel[]> {
  const prefixes = scope.slugs === undefined ? [tunnelEnvPrefix(scope.environment)] : scope.slugs.map((s) => tunnelSlugPrefix(scope.environment, s));
  const out: CloudflareTunnel[] = [];
  for (const prefix of prefixes) {
    try {
      const found = await fetchAllPages((page) => reader.listTunnels({ is_deleted: false, include_prefix: prefix, per_page: PAGE_SIZE, page }));
      // Re-check the prefix and the deletion mark: neither filter is guaranteed by every API version.
      out.push(...found.filter((t) => t.name?.startsWith(prefix) && !t.deleted_at));
    } catch (err) {
      throw new CloudError(describeCause(err), { operation: 'list tunnels', resource: `Cloudflare tunnels ${prefix}*`, cause: err });
    }
  }
  return out;
}

export function toLiveTunnel(t: CloudflareTunnel): LiveTunnel {
  return { id: t.id ?? '', name: t.name ?? '', createdAt: t.created_at };
}
