/**
 * How live observations are read for comparison with the desired state. Shared by the planner and
 * the fingerprints so both agree on what "exists", "running" and "protected" mean. Each
 * planner module's header lists the rules it applies (build.ts lists the modules).
 *
 * - Existence. An instance exists when pending, running, stopping or stopped; shutting-down and
 *   terminated instances are gone (a create may proceed). Delete cascades still list shutting-down
 *   instances so apply waits for them before removing their security groups. A secret scheduled
 *   for deletion does not exist but is restorable: a create or repair restores it (its generated
 *   passwords are generated once and never regenerated) instead of creating a new one.
 */
import { Tag } from '../contract.js';
import type { Power } from '../desired/model.js';
import type { InstanceState, LiveInstance, LiveTunnel } from '../live/model.js';

/** Instances in these states are the identity's instance; shutting-down and terminated are gone. */
const EXISTING_STATES: ReadonlySet<InstanceState> = new Set<InstanceState>(['pending', 'running', 'stopping', 'stopped']);

export function isExisting(instance: LiveInstance): boolean {
  return EXISTING_STATES.has(instance.state);
}

/** Still holds its security groups: a delete cascade must terminate (and wait for) these too. */
export function isNotTerminated(instance: LiveInstance): boolean {
  return instance.state !== 'terminated';
}

/** pending counts as running (it is on its way there); stopping counts as stopped. */
export function powerOf(state: InstanceState): Power {
  return state === 'pending' || state === 'running' ? 'running' : 'stopped';
}

/**
 * The instance the plan treats as the identity's own when duplicates exist: the oldest launch
 * (it holds the data; a crashed run's duplicate is newer), then the smallest id.
 */
export function byAge(a: LiveInstance, b: LiveInstance): number {
  const la = a.launchTime ?? '\uffff';
  const lb = b.launchTime ?? '\uffff';
  if (la !== lb) return la < lb ? -1 : 1;
  return compareText(a.instanceId, b.instanceId);
}

export function tunnelsByAge(a: LiveTunnel, b: LiveTunnel): number {
  const ca = a.createdAt ?? '\uffff';
  const cb = b.createdAt ?? '\uffff';
  if (ca !== cb) return ca < cb ? -1 : 1;
  return compareText(a.id, b.id);
}

/** EC2 instance types are case-insensitive in practice (the API returns lower case). */
export function sameInstanceType(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

/** Hostnames compare case-insensitively and without a trailing root dot. */
export function normaliseHost(name: string): string {
  return name.trim().toLowerCase().replace(/\.$/, '');
}

/** The DeletionProtection tag: only the literal `true` (any case) protects. */
export function isProtectedTag(tags: Record<string, string> | undefined): boolean {
  return (tags?.[Tag.deletionProtection] ?? '').trim().toLowerCase() === 'true';
}

/** Code-unit order, so plans sort the same on every machine and locale. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
