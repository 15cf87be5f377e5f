/**
 * Observe: every read-only observer runs concurrently (each paginates sequentially, paced by its
 * service's budget through the readers), and the results are joined into one Inventory.
 *
 * A scoped observe (a pull request's `--changed-since`) asks each service only about the changed
 * tenants: EC2 and Secrets Manager through OrgSlug tag filters (and a known org's bundle by its
 * name when the tags did not show it, as a full plan finds it by name), tunnels by name prefix and
 * DNS by exact hostname, one request per slug. Past a handful of slugs the Cloudflare lookups switch to the
 * environment-wide listing (one or two requests) and are narrowed in memory.
 *
 * With a canary account (`canary`), the AWS observers run in each account (same Env-scoped
 * lookups, each through its own readers and budgets) and every EC2 and Secrets Manager object
 * carries its account; Cloudflare is observed once. When the canary role cannot be assumed the
 * canary account is recorded unobserved with that one error, and the main account's observation
 * stands: the planner then plans nothing for canary tenants (never "absent, so create").
 */
import type { Account, AccountInfo, AccountObservation } from '../accounts.js';
import { Tag } from '../contract.js';
import { AccountUnavailable, describeCause } from '../errors.js';
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
  /** The main account's id and region, recorded in `accounts` when there is a canary account. */
  main?: AccountInfo;
  /** The second account (src/app/ports.ts AccountSession has this shape). */
  canary?: AccountReaders;
}

export interface AccountReaders {
  info: AccountInfo;
  readers: LiveReaders;
  /** Resolves the account's credentials; rejects (AccountUnavailable) when its role is refused. */
  ready(): Promise<void>;
}

export async function observe(readers: LiveReaders, opts: ObserveOptions): Promise<Inventory> {
  const environment = opts.environment;
  const before = { ...readers.calls };
  const canaryBefore = opts.canary ? { ...opts.canary.readers.calls } : undefined;
  const slugs = opts.scope ? [...new Set(opts.scope.slugs)].sort() : undefined;
  const cfSlugs = slugs && slugs.length <= SCOPED_CLOUDFLARE_LOOKUPS_MAX ? slugs : undefined;

  if (slugs?.length === 0) return emptyInventory(opts);

  const awsOpts = { environment, slugs, orgIds: opts.scope?.orgIds ?? [] };
  const [main, canary, tunnels, dnsRecords] = await Promise.all([
    observeAwsAccount(readers, awsOpts, opts.canary ? 'main' : undefined),
    opts.canary ? observeCanary(opts.canary, awsOpts) : undefined,
    observeTunnels(readers.cloudflare, { environment, slugs: cfSlugs }),
    observeDnsRecords(readers.cloudflare, { environment, slugs: cfSlugs, appDomain: opts.appDomain }),
  ]);
  const aws = [main, ...(canary && 'observed' in canary ? [canary.observed] : [])];
  const calls = callsSince(before, readers.calls);
  if (opts.canary && canaryBefore) addCalls(calls, callsSince(canaryBefore, opts.canary.readers.calls));

  const inventory = joinInventory(
    {
      instances: aws.flatMap((a) => a.instances),
      securityGroups: aws.flatMap((a) => a.securityGroups),
      secrets: aws.flatMap((a) => a.secrets),
      tunnels: tunnels.map(toLiveTunnel),
      dnsRecords: dnsRecords.map(toLiveDnsRecord),
    },
    {
      environment,
      observedAt: (opts.now?.() ?? new Date()).toISOString(),
      scope: { kind: 'all' },
      calls,
    },
  );
  if (opts.canary && canary) {
    const mainInfo: AccountInfo = opts.main ?? { account: 'main', id: 'default', region: '' };
    inventory.accounts = {
      main: { ...mainInfo, observed: true },
      canary: 'observed' in canary ? { ...opts.canary.info, observed: true } : canary.unobserved,
    };
  }
  return slugs ? narrowToScope(inventory, slugs, opts.scope?.orgIds ?? []) : inventory;
}

interface AwsObservations {
  instances: ReturnType<typeof toLiveInstance>[];
  securityGroups: ReturnType<typeof toLiveSecurityGroup>[];
  secrets: ReturnType<typeof toLiveSecret>[];
}

/** One account's EC2 and Secrets Manager objects, each stamped with `account` when there is more than one. */
async function observeAwsAccount(
  readers: LiveReaders,
  opts: { environment: string; slugs: string[] | undefined; orgIds: readonly string[] },
  account: Account | undefined,
): Promise<AwsObservations> {
  const { environment, slugs } = opts;
  const secretSlugs = slugs && slugs.length <= SCOPED_SECRET_SLUGS_MAX ? slugs : undefined;
  const [instances, securityGroups, volumes, secrets] = await Promise.all([
    observeInstances(readers.ec2, { environment, slugs }),
    observeSecurityGroups(readers.ec2, { environment, slugs }),
    observeVolumes(readers.ec2, { environment, slugs }),
    observeSecrets(readers.secrets, { environment, slugs: secretSlugs, ...(secretSlugs ? { orgIds: opts.orgIds } : {}) }),
  ]);
  const roots = rootVolumes(instances, volumes);
  const stamp = <T extends object>(x: T): T & { account?: Account } => (account ? { ...x, account } : x);
  return {
    instances: instances.map((i) => {
      const root = i.InstanceId ? roots.get(i.InstanceId) : undefined;
      return stamp(toLiveInstance(i, root?.sizeGb, root?.volumeId));
    }),
    securityGroups: securityGroups.map((g) => stamp(toLiveSecurityGroup(g))),
    secrets: secrets.map((x) => stamp(toLiveSecret(x))),
  };
}

/** The canary account: its credentials first, so a refused role is one error, not one per observer. */
async function observeCanary(
  canary: AccountReaders,
  opts: { environment: string; slugs: string[] | undefined; orgIds: readonly string[] },
): Promise<{ observed: AwsObservations } | { unobserved: AccountObservation }> {
  try {
    await canary.ready();
  } catch (e) {
    const error = e instanceof AccountUnavailable ? e.message : `assume CANARY_ROLE_ARN ${canary.info.roleArn ?? ''}: ${describeCause(e)}`;
    return { unobserved: { ...canary.info, observed: false, error } };
  }
  return { observed: await observeAwsAccount(canary.readers, opts, 'canary') };
}

function callsSince(before: CallCounts, now: CallCounts): CallCounts {
  const out = emptyCallCounts();
  for (const k of Object.keys(out) as Array<keyof CallCounts>) out[k] = now[k] - before[k];
  return out;
}

function addCalls(into: CallCounts, more: CallCounts): void {
  for (const k of Object.keys(into) as Array<keyof CallCounts>) into[k] += more[k];
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
