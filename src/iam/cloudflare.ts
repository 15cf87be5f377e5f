/**
 * The Cloudflare API token permissions tenantform needs, derived from the kind registry: every
 * Cloudflare kind's operations (src/kinds.ts) map to the one permission group that covers them.
 * Edit (API name "Write") covers the reads too. Nothing else is called: no zone settings, no
 * account members, no Access applications.
 */
import { InternalError } from '../errors.js';
import { KINDS, RESOURCE_KINDS, type ResourceKind } from '../kinds.js';

export interface CloudflarePermission {
  scope: 'Account' | 'Zone';
  /** As the dashboard's token editor names it. */
  group: string;
  level: 'Edit';
  /** As the API's permission_groups name it (Edit is "Write" there). */
  apiName: string;
  kinds: ResourceKind[];
  operations: string[];
}

const GROUP_OF: Partial<Record<ResourceKind, Pick<CloudflarePermission, 'scope' | 'group' | 'apiName'>>> = {
  tunnel: { scope: 'Account', group: 'Cloudflare Tunnel', apiName: 'Cloudflare Tunnel Write' },
  ingress: { scope: 'Account', group: 'Cloudflare Tunnel', apiName: 'Cloudflare Tunnel Write' },
  dnsRecord: { scope: 'Zone', group: 'DNS', apiName: 'DNS Write' },
};

/** One entry per permission group, with the kinds and operations that need it. */
export function cloudflarePermissions(): CloudflarePermission[] {
  const out: CloudflarePermission[] = [];
  for (const kind of RESOURCE_KINDS) {
    const info = KINDS[kind];
    if (info.service !== 'cloudflare' || info.operations.length === 0) continue;
    const group = GROUP_OF[kind];
    // A new Cloudflare kind must be mapped here before it can be granted.
    if (!group) return unmapped(kind);
    const entry = out.find((e) => e.apiName === group.apiName);
    if (entry) {
      entry.kinds.push(kind);
      entry.operations.push(...info.operations);
    } else out.push({ ...group, level: 'Edit', kinds: [kind], operations: [...info.operations] });
  }
  return out;
}

/** Cloudflare kinds with operations but no permission group (must be empty). */
export function unmappedCloudflareKinds(): ResourceKind[] {
  return RESOURCE_KINDS.filter((k) => KINDS[k].service === 'cloudflare' && KINDS[k].operations.length > 0 && !GROUP_OF[k]);
}

function unmapped(kind: ResourceKind): never {
  throw new InternalError('this Cloudflare kind has operations but no API token permission group', { operation: 'derive Cloudflare token permissions', resource: kind });
}
