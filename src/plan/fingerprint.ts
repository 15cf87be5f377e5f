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
import { FINGERPRINTED_KINDS, type FingerprintedKind } from '../kinds.js';
import type { Inventory, LiveTenant } from '../live/model.js';
import { findLiveObject, liveIds, type FoundLiveObject } from './kinds.js';
import type { Plan, StepResource } from './model.js';
import { compareText } from './normalise.js';

export const ABSENT = 'absent';

export function fingerprintInventory(inventory: Inventory, plan: Pick<Plan, 'actions'>): Record<string, string> {
  const out: Record<string, string> = {};
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
      const resource = step.resource;
      const creates = step.op === 'create' && step.id === undefined && isFingerprinted(resource);
      if (creates && (a.kind !== 'create' || a.replacement)) {
        out[`absent:${resource}:${orgId}${a.target.kind === 'workspace' ? `:${workspaceId ?? ''}` : ''}`] = hashIdsOrAbsent(
          idsOfKind(live, resource, a.target.kind === 'tenant' ? undefined : (workspaceId ?? '')),
        );
      }
      if (step.id === undefined) continue;
      const found: FoundLiveObject | undefined = findLiveObject(live, FINGERPRINTED_KINDS, step.id);
      if (found) out[`${found.kind}:${step.id}`] = shortHash(found.attributes());
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

/** The kinds whose live objects a plan relies on (src/kinds.ts), with their attributes in src/plan/kinds.ts. */
function isFingerprinted(resource: StepResource): resource is FingerprintedKind {
  return (FINGERPRINTED_KINDS as readonly StepResource[]).includes(resource);
}

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

/** Existing ids of one kind for a tenant (workspaceId undefined) or one of its workspaces. */
function idsOfKind(live: LiveTenant | undefined, kind: FingerprintedKind, workspaceId: string | undefined): string[] {
  return liveIds(live, [kind], { workspaceId }, 'exists');
}

function idsOfTarget(live: LiveTenant | undefined, workspaceId: string | undefined): string[] {
  return liveIds(live, FINGERPRINTED_KINDS, { workspaceId }, 'exists');
}

/** Every id the cascade of a tenant delete would touch, shutting-down instances included. */
function allIds(live: LiveTenant | undefined): string[] {
  return liveIds(live, FINGERPRINTED_KINDS, 'all', 'inCascade');
}
