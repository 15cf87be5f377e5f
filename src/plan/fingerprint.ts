/**
 * Plan fingerprints: what a saved plan relied on, so apply can refuse it when the world moved.
 *
 * The key set is a function of the plan alone (its actions' targets and step ids); the values
 * come from an inventory. Computing `fingerprintInventory(fresh, savedPlan)` at apply time and
 * comparing it with the saved `basis.fingerprints` therefore shows exactly what changed:
 * - `<kind>:<id>` for every live object a step names (instance, securityGroup, secret, tunnel,
 *   dnsRecord) → short hash of the attributes the plan compared. Absent from the fresh map when
 *   the object is gone.
 * - `absent:tenant:<orgId>` / `absent:workspace:<orgId>:<workspaceId>` for every create that is
 *   not a replacement (it relies on nothing existing) → `absent`, or a hash of what now exists.
 * - `absent:<resource>:<orgId>[:<workspaceId>]` for every other step that creates a resource
 *   (repairs, replacements) → `absent`, or a hash of the ids of that kind that exist.
 * - `cascade:tenant:<orgId>` for every tenant delete → a hash of every live id under the org, so
 *   a workspace launched since the plan makes the cascade stale.
 * Instance states are reduced to running / stopped / gone, so pending → running between plan
 * and apply does not make a plan stale.
 */
import { createHash } from 'node:crypto';
import { Tag } from '../contract.js';
import type { Inventory, LiveDnsRecord, LiveInstance, LiveSecret, LiveSecurityGroup, LiveTenant, LiveTunnel } from '../live/model.js';
import type { Plan, StepResource } from './model.js';
import { compareText, isExisting, isNotTerminated, powerOf } from './normalise.js';

export const ABSENT = 'absent';

type ObjectKind = 'instance' | 'securityGroup' | 'secret' | 'tunnel' | 'dnsRecord';

export function fingerprintInventory(inventory: Inventory, plan: Pick<Plan, 'actions'>): Record<string, string> {
  const out: Record<string, string> = {};
  const indexes = new Map<string, Map<string, { kind: ObjectKind; value: unknown }>>();
  const indexFor = (orgId: string): Map<string, { kind: ObjectKind; value: unknown }> => {
    let index = indexes.get(orgId);
    if (!index) {
      index = indexTenant(inventory.tenants?.[orgId]);
      indexes.set(orgId, index);
    }
    return index;
  };

  for (const a of plan.actions) {
    const { orgId, workspaceId } = a.target;
    const live = inventory.tenants?.[orgId];
    const scopeKey = a.target.kind === 'tenant' ? `tenant:${orgId}` : `workspace:${orgId}:${workspaceId ?? ''}`;

    if (a.kind === 'create' && !a.replacement) {
      out[`absent:${scopeKey}`] = hashIdsOrAbsent(idsOfTarget(live, a.target.kind === 'tenant' ? undefined : (workspaceId ?? '')));
    }
    if (a.kind === 'delete' && a.target.kind === 'tenant' && !a.replacement) {
      out[`cascade:tenant:${orgId}`] = hashIdsOrAbsent(allIds(live));
    }
    for (const step of a.steps) {
      const creates = step.op === 'create' && step.id === undefined && CREATED_KINDS.has(step.resource);
      if (creates && (a.kind !== 'create' || a.replacement)) {
        out[`absent:${step.resource}:${orgId}${a.target.kind === 'workspace' ? `:${workspaceId ?? ''}` : ''}`] = hashIdsOrAbsent(
          idsOfKind(live, step.resource as ObjectKind, a.target.kind === 'tenant' ? undefined : (workspaceId ?? '')),
        );
      }
      if (step.id === undefined) continue;
      const found = indexFor(orgId).get(step.id);
      if (found) out[`${found.kind}:${step.id}`] = shortHash(attributesOf(found.kind, found.value));
    }
  }
  return out;
}

export interface StaleReason {
  kind: 'desiredChanged' | 'changed' | 'gone' | 'appeared';
  /** The fingerprint key that moved; absent for desiredChanged. */
  key?: string;
  message: string;
}

/**
 * What moved since the plan was made. Empty means the plan is still valid. `fresh` is
 * `fingerprintInventory(freshInventory, saved)`; `desiredHash` the hash of the desired state now.
 */
export function comparePlanBasis(saved: Plan, fresh: Record<string, string>, desiredHash: string): StaleReason[] {
  const reasons: StaleReason[] = [];
  if (saved.basis.desiredHash !== desiredHash) {
    reasons.push({ kind: 'desiredChanged', message: `the desired state changed since the plan (hash ${short(saved.basis.desiredHash)} → ${short(desiredHash)})` });
  }
  for (const key of Object.keys(saved.basis.fingerprints).sort(compareText)) {
    const before = saved.basis.fingerprints[key];
    const now = fresh[key];
    if (now === before) continue;
    if (key.startsWith('absent:')) {
      reasons.push({ kind: 'appeared', key, message: `${describeKey(key)}: something now exists where the plan expected nothing` });
    } else if (key.startsWith('cascade:')) {
      reasons.push({ kind: 'changed', key, message: `${describeKey(key)}: the set of live resources to delete changed` });
    } else if (now === undefined) {
      reasons.push({ kind: 'gone', key, message: `${describeKey(key)} no longer exists` });
    } else {
      reasons.push({ kind: 'changed', key, message: `${describeKey(key)} changed since the plan` });
    }
  }
  return reasons;
}

const CREATED_KINDS: ReadonlySet<StepResource> = new Set<StepResource>(['instance', 'securityGroup', 'secret', 'tunnel', 'dnsRecord']);

function describeKey(key: string): string {
  const [first, ...rest] = key.split(':');
  if (first === 'absent' || first === 'cascade') return `${first} ${rest[0]} ${rest.slice(1).join(':')}`;
  return `${first} ${rest.join(':')}`;
}

function short(hash: string): string {
  return hash === '' ? '(none)' : hash.slice(0, 12);
}

export function shortHash(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);
}

function hashIdsOrAbsent(ids: string[]): string {
  return ids.length === 0 ? ABSENT : shortHash(ids.sort(compareText));
}

function indexTenant(live: LiveTenant | undefined): Map<string, { kind: ObjectKind; value: unknown }> {
  const index = new Map<string, { kind: ObjectKind; value: unknown }>();
  if (!live) return index;
  const add = (kind: ObjectKind, id: string, value: unknown): void => void index.set(id, { kind, value });
  for (const w of Object.values(live.workspaces ?? {})) {
    for (const i of w.instances ?? []) add('instance', i.instanceId, i);
    for (const g of w.securityGroups ?? []) add('securityGroup', g.groupId, g);
  }
  for (const i of live.instances ?? []) add('instance', i.instanceId, i);
  for (const g of live.securityGroups ?? []) add('securityGroup', g.groupId, g);
  for (const s of live.secrets ?? []) add('secret', s.arn, s);
  for (const t of live.tunnels ?? []) add('tunnel', t.id, t);
  for (const r of live.dnsRecords ?? []) add('dnsRecord', r.id, r);
  return index;
}

/** The attributes the planner compares, per object kind; nothing else makes a plan stale. */
function attributesOf(kind: ObjectKind, value: unknown): unknown[] {
  switch (kind) {
    case 'instance': {
      const i = value as LiveInstance;
      const state = isExisting(i) ? powerOf(i.state) : 'gone';
      return [state, i.instanceType.toLowerCase(), i.imageId, i.volumeGb ?? null, [...(i.securityGroupIds ?? [])].sort(compareText), pickTags(i.tags)];
    }
    case 'securityGroup': {
      const g = value as LiveSecurityGroup;
      return [g.groupName, g.vpcId ?? null, pickTags(g.tags), g.ingress ?? null];
    }
    case 'secret': {
      const s = value as LiveSecret;
      return [s.name, s.deletedDate !== undefined, pickTags(s.tags)];
    }
    case 'tunnel':
      return [(value as LiveTunnel).name];
    case 'dnsRecord': {
      const r = value as LiveDnsRecord;
      return [r.name.toLowerCase(), r.type, r.content.toLowerCase(), r.proxied];
    }
  }
}

const TAGS_THAT_MATTER = [Tag.orgSlug, Tag.deletionProtection, Tag.image, Tag.workspaceId, Tag.runtime, Tag.tier] as const;

function pickTags(tags: Record<string, string> | undefined): (string | null)[] {
  return TAGS_THAT_MATTER.map((k) => tags?.[k] ?? null);
}

/** Existing ids of one kind for a tenant (workspaceId undefined) or one of its workspaces. */
function idsOfKind(live: LiveTenant | undefined, kind: ObjectKind, workspaceId: string | undefined): string[] {
  if (!live) return [];
  if (workspaceId !== undefined) {
    const w = live.workspaces?.[workspaceId];
    if (!w) return [];
    if (kind === 'instance') return (w.instances ?? []).filter(isExisting).map((i) => i.instanceId);
    if (kind === 'securityGroup') return (w.securityGroups ?? []).map((g) => g.groupId);
    return [];
  }
  switch (kind) {
    case 'instance':
      return (live.instances ?? []).filter(isExisting).map((i) => i.instanceId);
    case 'securityGroup':
      return (live.securityGroups ?? []).map((g) => g.groupId);
    case 'secret':
      return (live.secrets ?? []).filter((s) => !s.deletedDate).map((s) => s.arn);
    case 'tunnel':
      return (live.tunnels ?? []).map((t) => t.id);
    case 'dnsRecord':
      return (live.dnsRecords ?? []).map((r) => r.id);
  }
}

function idsOfTarget(live: LiveTenant | undefined, workspaceId: string | undefined): string[] {
  const kinds: ObjectKind[] = ['instance', 'securityGroup', 'secret', 'tunnel', 'dnsRecord'];
  return kinds.flatMap((k) => idsOfKind(live, k, workspaceId));
}

/** Every id the cascade of a tenant delete would touch, shutting-down instances included. */
function allIds(live: LiveTenant | undefined): string[] {
  if (!live) return [];
  const ids: string[] = [];
  for (const w of Object.values(live.workspaces ?? {})) {
    for (const i of (w.instances ?? []).filter(isNotTerminated)) ids.push(i.instanceId);
    for (const g of w.securityGroups ?? []) ids.push(g.groupId);
  }
  for (const i of (live.instances ?? []).filter(isNotTerminated)) ids.push(i.instanceId);
  for (const g of live.securityGroups ?? []) ids.push(g.groupId);
  for (const s of (live.secrets ?? []).filter((s) => !s.deletedDate)) ids.push(s.arn);
  for (const t of live.tunnels ?? []) ids.push(t.id);
  for (const r of live.dnsRecords ?? []) ids.push(r.id);
  return ids;
}
