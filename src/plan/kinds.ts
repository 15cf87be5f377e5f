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

/** One live object of a fingerprinted kind, with its registry entry erased to `unknown`. */
export interface LiveObject {
  kind: FingerprintedKind;
  id: string;
  attributes: () => unknown[];
  exists: boolean;
  inCascade: boolean;
}

function objects<K extends FingerprintedKind>(kind: K, values: readonly LiveOf[K][] | undefined): LiveObject[] {
  const entry = FINGERPRINTS[kind] as FingerprintEntry<LiveOf[K]>;
  return (values ?? []).map((v) => ({ kind, id: entry.id(v), attributes: () => entry.attributes(v), exists: entry.exists(v), inCascade: entry.inCascade(v) }));
}

/** Objects of `kind` held by the tenant itself (workspaceId undefined) or by one of its workspaces. */
export function liveObjectsOf(live: LiveTenant | undefined, kind: FingerprintedKind, workspaceId: string | undefined): LiveObject[] {
  if (!live) return [];
  if (workspaceId === undefined) return objectsOfTenant(live, kind);
  const w = live.workspaces?.[workspaceId];
  return w ? objectsOfWorkspace(w, kind) : [];
}

function objectsOfTenant<K extends FingerprintedKind>(live: LiveTenant, kind: K): LiveObject[] {
  return objects(kind, (FINGERPRINTS[kind] as FingerprintEntry<LiveOf[K]>).ofTenant(live));
}

function objectsOfWorkspace<K extends FingerprintedKind>(w: LiveWorkspace, kind: K): LiveObject[] {
  const of = (FINGERPRINTS[kind] as FingerprintEntry<LiveOf[K]>).ofWorkspace;
  return of ? objects(kind, of(w)) : [];
}

/** Every live object of every fingerprinted kind under a tenant, its workspaces' included. */
export function allLiveObjects(live: LiveTenant | undefined, kinds: readonly FingerprintedKind[]): LiveObject[] {
  if (!live) return [];
  const out: LiveObject[] = [];
  for (const w of Object.values(live.workspaces ?? {})) for (const k of kinds) out.push(...objectsOfWorkspace(w, k));
  for (const k of kinds) out.push(...objectsOfTenant(live, k));
  return out;
}
