/**
 * Finding orphans: a pure function of the desired state, the inventory plan observes, the audit
 * store's claims and the store's first-seen times. No I/O, so the rules are tested as tables.
 *
 * Rules (the README's "what counts as an orphan"):
 * - Only what the observers return is considered: AWS resources tagged ManagedBy=tenantform and
 *   Env=<env> (a bundle under the environment's name prefix without those tags is unmarked and
 *   left alone), tunnels named `tenantform.<env>.…`, DNS records whose comment carries the
 *   environment. Another environment's resources are never listed.
 * - An org the fleet does not declare: every resource of it (one orphaned tenant for maxDeletes).
 * - A declared tenant: workspace resources whose workspace file is gone; security groups no live
 *   instance uses; tunnels no record of the tenant points at; records pointing at no live tunnel.
 * - Unattributed resources (marked but naming no org) are reported only.
 * - Age: instances by LaunchTime, tunnels by created_at, everything else by the store's first
 *   sighting. Younger than the minimum age (or of unknown age) is `tooYoung`, never deleted.
 * - DeletionProtection=true on the resource, on any live resource of its tenant, or in the
 *   tenant's file: `protected`, never deleted.
 * - Claims (latest event created, adopted or updated) whose resource no longer shows: `lost`.
 */
import { Tag, tunnelTarget } from '../contract.js';
import type { DesiredState } from '../desired/model.js';
import type { Inventory, LiveInstance, LiveTenant } from '../live/model.js';
import type { ResourceRecord } from '../store/model.js';
import type { LostClaim, Orphan, OrphanReason, SweepResourceKind } from './model.js';

export interface FindInput {
  desired: DesiredState;
  inventory: Inventory;
  claims: readonly Pick<ResourceRecord, 'kind' | 'resourceId' | 'orgId' | 'slug' | 'workspaceId' | 'at' | 'runId'>[];
  /** `firstSeenKey(kind, id)` → ISO time the store first saw the resource. */
  firstSeen: ReadonlyMap<string, string>;
  now: Date;
  minAgeMs: number;
  /** `--allow-deletes N`. */
  allowDeletes?: number | undefined;
}

export interface FindResult {
  orphans: Orphan[];
  lost: LostClaim[];
  refusals: string[];
  orphanedTenants: number;
}

export function firstSeenKey(kind: SweepResourceKind, id: string): string {
  return `${kind}:${id}`;
}

const isStanding = (i: LiveInstance): boolean => i.state !== 'terminated' && i.state !== 'shutting-down';
const isProtected = (tags: Record<string, string> | undefined): boolean => (tags?.[Tag.deletionProtection] ?? '').trim().toLowerCase() === 'true';

export function findOrphans(input: FindInput): FindResult {
  const { desired, inventory } = input;
  const declared = new Map(desired.tenants.map((t) => [t.spec.orgId, t]));
  const orphans: Orphan[] = [];
  const liveTunnelIds = new Set(Object.values(inventory.tenants).flatMap((t) => t.tunnels.map((x) => x.id)));

  const add = (o: Omit<Orphan, 'since' | 'ageSource' | 'verdict'>, created: string | undefined, protectedHere: boolean): void => {
    const seen = created === undefined ? input.firstSeen.get(firstSeenKey(o.kind, o.id)) : undefined;
    const since = created ?? seen;
    const ageSource = created !== undefined ? 'created' : seen !== undefined ? 'firstSeen' : 'unknown';
    const age = since === undefined ? Number.NaN : input.now.getTime() - Date.parse(since);
    const verdict = protectedHere ? 'protected' : o.reason === 'unattributed' ? 'reportOnly' : age >= input.minAgeMs ? 'delete' : 'tooYoung';
    orphans.push({ ...o, since, ageSource, verdict });
  };

  for (const orgId of Object.keys(inventory.tenants).sort()) {
    const live = inventory.tenants[orgId]!;
    const spec = declared.get(orgId);
    const tenantProtected = live.deletionProtection || spec?.spec.deletionProtection === true || tenantTagged(live);
    const base = { orgId, slug: spec?.spec.slug ?? live.slug };
    const declaredWorkspaces = new Set(spec?.workspaces.map((w) => w.spec.id) ?? []);
    const reasonFor = (workspaceId: string | undefined): OrphanReason | undefined =>
      !spec ? 'undeclaredTenant' : workspaceId !== undefined && !declaredWorkspaces.has(workspaceId) ? 'undeclaredWorkspace' : undefined;

    // Instances, then security groups: the tenant's own, then each workspace's.
    const owners: Array<{ workspaceId: string | undefined; instances: LiveInstance[]; groups: LiveTenant['securityGroups'] }> = [
      { workspaceId: undefined, instances: live.instances, groups: live.securityGroups },
      ...Object.keys(live.workspaces)
        .sort()
        .map((wid) => ({ workspaceId: wid, instances: live.workspaces[wid]!.instances, groups: live.workspaces[wid]!.securityGroups })),
    ];
    const usedGroups = new Set(owners.flatMap((o) => o.instances.filter(isStanding).flatMap((i) => i.securityGroupIds)));
    for (const o of owners) {
      const reason = reasonFor(o.workspaceId);
      if (!reason) continue;
      for (const i of o.instances.filter(isStanding)) {
        add(
          { ...base, kind: 'instance', id: i.instanceId, name: i.tags[Tag.name], workspaceId: o.workspaceId, reason, ...(i.account ? { account: i.account } : {}) },
          i.launchTime,
          tenantProtected || isProtected(i.tags),
        );
      }
    }
    for (const o of owners) {
      const reason = reasonFor(o.workspaceId);
      for (const g of o.groups) {
        // A declared owner's group is an orphan only when nothing uses it.
        const why: OrphanReason | undefined = reason ?? (usedGroups.has(g.groupId) || groupUsedElsewhere(inventory, g.groupId) ? undefined : 'unusedSecurityGroup');
        if (!why) continue;
        add(
          { ...base, kind: 'securityGroup', id: g.groupId, name: g.groupName, workspaceId: o.workspaceId, reason: why, ...(g.account ? { account: g.account } : {}) },
          undefined,
          tenantProtected || isProtected(g.tags),
        );
      }
    }
    if (!spec) {
      for (const s of live.secrets.filter((x) => !x.deletedDate && isMarked(x.tags, inventory.environment))) {
        add(
          { ...base, kind: 'secret', id: s.name, name: s.name, workspaceId: undefined, reason: 'undeclaredTenant', ...(s.account ? { account: s.account } : {}) },
          undefined,
          tenantProtected || isProtected(s.tags),
        );
      }
    }
    const targets = new Set(live.dnsRecords.map((r) => r.content.toLowerCase()));
    for (const r of live.dnsRecords) {
      const pointsAtLive = [...liveTunnelIds].some((id) => tunnelTarget(id).toLowerCase() === r.content.toLowerCase());
      const why: OrphanReason | undefined = !spec ? 'undeclaredTenant' : pointsAtLive ? undefined : 'recordWithoutTunnel';
      if (why) add({ ...base, kind: 'dnsRecord', id: r.id, name: r.name, workspaceId: undefined, reason: why }, undefined, tenantProtected);
    }
    for (const t of live.tunnels) {
      const why: OrphanReason | undefined = !spec ? 'undeclaredTenant' : targets.has(tunnelTarget(t.id).toLowerCase()) ? undefined : 'tunnelWithoutRecord';
      if (why) add({ ...base, kind: 'tunnel', id: t.id, name: t.name, workspaceId: undefined, reason: why }, t.createdAt, tenantProtected);
    }
  }

  for (const u of inventory.unattributed) {
    add(
      {
        kind: u.kind,
        id: u.kind === 'secret' ? (u.name ?? u.id) : u.id,
        name: u.name,
        orgId: undefined,
        slug: undefined,
        workspaceId: undefined,
        reason: 'unattributed',
      },
      undefined,
      false,
    );
  }

  const refusals: string[] = [];
  // Orphaned tenants a delete would touch: a protected or too-young one is not counted.
  const orphanedOrgs = [...new Set(orphans.filter((o) => o.reason === 'undeclaredTenant' && o.verdict === 'delete').map((o) => o.orgId!))];
  const max = desired.fleet.guards.maxDeletes;
  if (orphanedOrgs.length > max && !(input.allowDeletes !== undefined && input.allowDeletes >= orphanedOrgs.length)) {
    const given = input.allowDeletes === undefined ? '' : ` (--allow-deletes ${input.allowDeletes} is not enough)`;
    refusals.push(
      `maxDeletes: ${orphanedOrgs.length} orphaned tenants exceed guards.maxDeletes (${max})${given}; pass --allow-deletes ${orphanedOrgs.length} to proceed`,
    );
    for (const o of orphans) if (o.reason === 'undeclaredTenant' && o.verdict === 'delete') o.verdict = 'refused';
  }

  return { orphans, lost: findLost(input), refusals, orphanedTenants: orphanedOrgs.length };
}

/** The Env and ManagedBy tags, where a resource kind carries tags. */
function isMarked(tags: Record<string, string>, environment: string): boolean {
  return tags[Tag.managedBy] === 'tenantform' && tags[Tag.env] === environment;
}

function tenantTagged(live: LiveTenant): boolean {
  const all = [...live.instances, ...live.securityGroups, ...live.secrets, ...Object.values(live.workspaces).flatMap((w) => [...w.instances, ...w.securityGroups])];
  return all.some((r) => isProtected(r.tags));
}

/** A group may be used by another org's instance (a workspace moved between tenants). */
function groupUsedElsewhere(inventory: Inventory, groupId: string): boolean {
  for (const t of Object.values(inventory.tenants)) {
    const all = [...t.instances, ...Object.values(t.workspaces).flatMap((w) => w.instances)];
    if (all.some((i) => isStanding(i) && i.securityGroupIds.includes(groupId))) return true;
  }
  return false;
}

function findLost(input: FindInput): LostClaim[] {
  const seen = new Set<string>();
  for (const t of Object.values(input.inventory.tenants)) {
    for (const i of [...t.instances, ...Object.values(t.workspaces).flatMap((w) => w.instances)]) if (i.state !== 'terminated') seen.add(`instance:${i.instanceId}`);
    for (const g of [...t.securityGroups, ...Object.values(t.workspaces).flatMap((w) => w.securityGroups)]) seen.add(`securityGroup:${g.groupId}`);
    for (const s of t.secrets.filter((x) => !x.deletedDate)) {
      seen.add(`secret:${s.name}`);
      seen.add(`secret:${s.arn}`);
    }
    for (const x of t.tunnels) {
      seen.add(`tunnel:${x.id}`);
      // The ingress configuration lives and dies with its tunnel.
      seen.add(`ingress:${x.id}`);
    }
    for (const r of t.dnsRecords) seen.add(`dnsRecord:${r.id}`);
  }
  for (const u of input.inventory.unattributed) {
    seen.add(`${u.kind}:${u.id}`);
    if (u.name) seen.add(`${u.kind}:${u.name}`);
  }
  return input.claims
    .filter((c) => !seen.has(`${c.kind}:${c.resourceId}`))
    .map((c) => ({ kind: c.kind, id: c.resourceId, orgId: c.orgId, slug: c.slug, workspaceId: c.workspaceId, at: c.at, runId: c.runId }));
}

/**
 * Keys of the resources the cloud gives no creation time for (their age is the first sighting).
 * Sweep and apply both record them from their observations.
 */
export function sightingKeys(inv: Inventory): string[] {
  const keys: string[] = [];
  for (const t of Object.values(inv.tenants)) {
    for (const g of [...t.securityGroups, ...Object.values(t.workspaces).flatMap((w) => w.securityGroups)]) keys.push(firstSeenKey('securityGroup', g.groupId));
    for (const s of t.secrets) keys.push(firstSeenKey('secret', s.name));
    for (const r of t.dnsRecords) keys.push(firstSeenKey('dnsRecord', r.id));
  }
  for (const u of inv.unattributed) if (u.kind !== 'instance' && u.kind !== 'tunnel') keys.push(firstSeenKey(u.kind, u.kind === 'secret' ? (u.name ?? u.id) : u.id));
  return keys;
}
