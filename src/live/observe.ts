/**
 * Observe: every read-only observer runs concurrently (each paginates sequentially, paced by its
 * service's budget through the readers), and the results are joined into one Inventory.
 *
 * A scoped observe (a pull request's `--changed-since`) asks each service only about the changed
 * tenants: EC2 and Secrets Manager through OrgSlug tag filters (and a known org's bundle by its
 * name when the tags did not show it, as a full plan finds it by name), tunnels by name prefix and
 * DNS by exact hostname, one request per slug. Past a handful of slugs the Cloudflare lookups switch to the
 * environment-wide listing (one or two requests) and are narrowed in memory.
 */
import { Tag } from '../contract.js';
import { observeDnsRecords, toLiveDnsRecord } from './dns.js';
import { observeInstances, observeSecurityGroups, observeVolumes, rootVolumes, toLiveInstance, toLiveSecurityGroup } from './ec2.js';
import { joinInventory } from './join.js';
import type { Inventory } from './model.js';
import { emptyCallCounts, type CallCounts, type LiveReaders } from './readers.js';
import { observeSecrets, toLiveSecret } from './secrets.js';
import { observeTunnels, toLiveTunnel } from './tunnels.js';

/** Per-slug Cloudflare lookups beyond this many cost more than listing the environment once. */
export const SCOPED_CLOUDFLARE_LOOKUPS_MAX = 5;
/** Secrets filtered by slug take one request per 10 slugs; beyond this, list the environment. */
export const SCOPED_SECRET_SLUGS_MAX = 50;

export interface ObserveScope {
  slugs: readonly string[];
  /** Org ids known for the scope (from the desired state); recorded in the inventory's scope. */
  orgIds?: readonly string[];
}

export interface ObserveOptions {
  environment: string;
  /** Needed for a scoped DNS lookup (hostnames are `<slug>.<appDomain>`). */
  appDomain?: string;
  /** Undefined observes the whole environment. */
  scope?: ObserveScope;
  now?: () => Date;
}

export async function observe(readers: LiveReaders, opts: ObserveOptions): Promise<Inventory> {
  const environment = opts.environment;
  const before = { ...readers.calls };
  const slugs = opts.scope ? [...new Set(opts.scope.slugs)].sort() : undefined;
  const cfSlugs = slugs && slugs.length <= SCOPED_CLOUDFLARE_LOOKUPS_MAX ? slugs : undefined;
  const secretSlugs = slugs && slugs.length <= SCOPED_SECRET_SLUGS_MAX ? slugs : undefined;

  if (slugs?.length === 0) return emptyInventory(opts);

  const [instances, securityGroups, volumes, secrets, tunnels, dnsRecords] = await Promise.all([
    observeInstances(readers.ec2, { environment, slugs }),
    observeSecurityGroups(readers.ec2, { environment, slugs }),
    observeVolumes(readers.ec2, { environment, slugs }),
    observeSecrets(readers.secrets, { environment, slugs: secretSlugs, ...(secretSlugs ? { orgIds: opts.scope?.orgIds ?? [] } : {}) }),
    observeTunnels(readers.cloudflare, { environment, slugs: cfSlugs }),
    observeDnsRecords(readers.cloudflare, { environment, slugs: cfSlugs, appDomain: opts.appDomain }),
  ]);

  const roots = rootVolumes(instances, volumes);
  const inventory = joinInventory(
    {
      instances: instances.map((i) => {
        const root = i.InstanceId ? roots.get(i.InstanceId) : undefined;
        return toLiveInstance(i, root?.sizeGb, root?.volumeId);
      }),
      securityGroups: securityGroups.map(toLiveSecurityGroup),
      secrets: secrets.map(toLiveSecret),
      tunnels: tunnels.map(toLiveTunnel),
      dnsRecords: dnsRecords.map(toLiveDnsRecord),
    },
    {
      environment,
      observedAt: (opts.now?.() ?? new Date()).toISOString(),
      scope: { kind: 'all' },
      calls: callsSince(before, readers.calls),
    },
  );
  return slugs ? narrowToScope(inventory, slugs, opts.scope?.orgIds ?? []) : inventory;
}

function callsSince(before: CallCounts, now: CallCounts): CallCounts {
  const out = emptyCallCounts();
  for (const k of Object.keys(out) as Array<keyof CallCounts>) out[k] = now[k] - before[k];
  return out;
}

function emptyInventory(opts: ObserveOptions): Inventory {
  return {
    environment: opts.environment,
    observedAt: (opts.now?.() ?? new Date()).toISOString(),
    scope: { kind: 'tenants', orgIds: [...(opts.scope?.orgIds ?? [])].sort(), slugs: [] },
    tenants: {},
    unattributed: [],
    calls: emptyCallCounts(),
  };
}

/**
 * Keeps the tenants a scoped plan asked about: by slug (from tags or names) or by a known org id.
 * Environment-wide listings used as a fallback bring in other tenants, and those must not look
 * like orphans to the planner.
 */
function narrowToScope(inv: Inventory, slugs: string[], orgIds: readonly string[]): Inventory {
  const slugSet = new Set(slugs);
  const orgSet = new Set(orgIds);
  const tenants: Inventory['tenants'] = {};
  for (const [orgId, t] of Object.entries(inv.tenants)) {
    const tenantSlugs = new Set<string>([
      ...(t.slug ? [t.slug] : []),
      ...t.instances.map((i) => i.tags[Tag.orgSlug] ?? ''),
      ...t.securityGroups.map((g) => g.tags[Tag.orgSlug] ?? ''),
    ]);
    if (orgSet.has(orgId) || [...tenantSlugs].some((s) => slugSet.has(s))) tenants[orgId] = t;
  }
  const found = Object.keys(tenants);
  return {
    ...inv,
    scope: { kind: 'tenants', orgIds: [...new Set([...orgIds, ...found])].sort(), slugs },
    tenants,
    // What the scoped lookups could not attribute is reported by the full sweep, not by a PR plan.
    unattributed: [],
  };
}
