/**
 * The planner's half of the kind registry (src/kinds.ts has the names): for every kind a saved
 * plan fingerprints, where its live objects sit in a tenant's inventory, their id, the attributes
 * the planner compares (nothing else makes a plan stale), and which of them count as existing
 * (a create relies on their absence) and as part of a tenant delete's cascade. src/plan/fingerprint.ts
 * reads only this table; a new observed kind is one entry here.
 */
import { Tag } from '../contract.js';
import type { FingerprintedKind } from '../kinds.js';
import type { LiveDnsRecord, LiveInstance, LiveSecret, LiveSecurityGroup, LiveTenant, LiveTunnel, LiveWorkspace } from '../live/model.js';
import { compareText, isExisting, isNotTerminated, powerOf } from './normalise.js';

export interface FingerprintEntry<T> {
  /** The tenant's own objects of this kind (not its workspaces'). */
  ofTenant(live: LiveTenant): readonly T[] | undefined;
  /** A workspace's objects of this kind; undefined for a kind only tenants have. */
  ofWorkspace: ((w: LiveWorkspace) => readonly T[] | undefined) | undefined;
  id(value: T): string;
  /** The attributes the planner compares. */
  attributes(value: T): unknown[];
  /** Exists for a create's or repair's absence check. */
  exists(value: T): boolean;
  /** Still acted on by a tenant delete's cascade (shutting-down instances included). */
  inCascade(value: T): boolean;
}

interface LiveOf {
  instance: LiveInstance;
  securityGroup: LiveSecurityGroup;
  secret: LiveSecret;
  tunnel: LiveTunnel;
  dnsRecord: LiveDnsRecord;
}

const always = (): boolean => true;

export const FINGERPRINTS: { [K in FingerprintedKind]: FingerprintEntry<LiveOf[K]> } = {
  instance: {
    ofTenant: (t) => t.instances,
    ofWorkspace: (w) => w.instances,
    id: (i) => i.instanceId,
    // Instance states are reduced to running / stopped / gone, so pending → running between plan
    // and apply does not make a plan stale.
    attributes: (i) => [
      isExisting(i) ? powerOf(i.state) : 'gone',
      i.instanceType.toLowerCase(),
      i.imageId,
      i.volumeGb ?? null,
      [...(i.securityGroupIds ?? [])].sort(compareText),
      pickTags(i.tags),
    ],
    exists: isExisting,
    inCascade: isNotTerminated,
  },
  securityGroup: {
    ofTenant: (t) => t.securityGroups,
    ofWorkspace: (w) => w.securityGroups,
    id: (g) => g.groupId,
    attributes: (g) => [g.groupName, g.vpcId ?? null, pickTags(g.tags), g.ingress ?? null],
    exists: always,
    inCascade: always,
  },
  secret: {
    ofTenant: (t) => t.secrets,
    ofWorkspace: undefined,
    id: (s) => s.arn,
    attributes: (s) => [s.name, s.deletedDate !== undefined, pickTags(s.tags)],
    exists: (s) => !s.deletedDate,
    inCascade: (s) => !s.deletedDate,
  },
  tunnel: {
    ofTenant: (t) => t.tunnels,
    ofWorkspace: undefined,
    id: (t) => t.id,
    attributes: (t) => [t.name],
    exists: always,
    inCascade: always,
  },
  dnsRecord: {
    ofTenant: (t) => t.dnsRecords,
    ofWorkspace: undefined,
    id: (r) => r.id,
    attributes: (r) => [r.name.toLowerCase(), r.type, r.content.toLowerCase(), r.proxied],
    exists: always,
    inCascade: always,
  },
};

const TAGS_THAT_MATTER = [Tag.orgSlug, Tag.deletionProtection, Tag.image, Tag.workspaceId, Tag.runtime, Tag.tier] as const;

function pickTags(tags: Record<string, string> | undefined): (string | null)[] {
  return TAGS_THAT_MATTER.map((k) => tags?.[k] ?? null);
}

/** A live object found by id, with the attributes its kind compares (computed on demand). */
export interface FoundLiveObject {
  kind: FingerprintedKind;
  attributes(): unknown[];
}

/** Which of a tenant's objects a lookup covers: its own, one workspace's, or everything under it. */
export type LiveObjectScope = { workspaceId: string | undefined } | 'all';

type Visitor = <T>(kind: FingerprintedKind, value: T, entry: FingerprintEntry<T>) => boolean | void;

/**
 * Calls `visit` for every live object of `kinds` in `scope` (workspaces before the tenant's own)
 * until it returns true. A walk, not a list: the fingerprints run over every tenant of a
 * 10,000-tenant plan, and wrapping each object first cost 40 MB of garbage per plan.
 */
function visitLiveObjects(live: LiveTenant, kinds: readonly FingerprintedKind[], scope: LiveObjectScope, visit: Visitor): boolean {
  const workspaces: readonly LiveWorkspace[] =
    scope === 'all' ? Object.values(live.workspaces ?? {}) : scope.workspaceId === undefined ? [] : [live.workspaces?.[scope.workspaceId]].filter((w) => w !== undefined);
  for (const w of workspaces) {
    for (const kind of kinds) {
      const entry = FINGERPRINTS[kind] as FingerprintEntry<unknown>;
      for (const value of entry.ofWorkspace?.(w) ?? []) if (visit(kind, value, entry)) return true;
    }
  }
  if (scope !== 'all' && scope.workspaceId !== undefined) return false;
  for (const kind of kinds) {
    const entry = FINGERPRINTS[kind] as FingerprintEntry<unknown>;
    for (const value of entry.ofTenant(live) ?? []) if (visit(kind, value, entry)) return true;
  }
  return false;
}

/** The live object with this id anywhere under the tenant, of a fingerprinted kind. */
export function findLiveObject(live: LiveTenant | undefined, kinds: readonly FingerprintedKind[], id: string): FoundLiveObject | undefined {
  if (!live) return undefined;
  let found: FoundLiveObject | undefined;
  visitLiveObjects(live, kinds, 'all', (kind, value, entry) => {
    if (entry.id(value) !== id) return false;
    found = { kind, attributes: () => entry.attributes(value) };
    return true;
  });
  return found;
}

/** Ids of the objects in scope that exist (a create's absence check) or that a tenant delete's cascade acts on. */
export function liveIds(live: LiveTenant | undefined, kinds: readonly FingerprintedKind[], scope: LiveObjectScope, which: 'exists' | 'inCascade'): string[] {
  if (!live) return [];
  const ids: string[] = [];
  visitLiveObjects(live, kinds, scope, (_kind, value, entry) => {
    if (entry[which](value)) ids.push(entry.id(value));
  });
  return ids;
}
