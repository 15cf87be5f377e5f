/**
 * Which tenants a plan covers, and the informational `scope` finding of a scoped plan.
 *
 * - Scope. With `inventory.scope.kind === 'tenants'`, only tenants matching the scope (by org id
 *   or slug) are planned; nothing outside it is compared or deleted. A partial desired state
 *   (`desired.partial`, loaded for a pull request) scopes the plan the same way when the inventory
 *   is not scoped: tenants that were not loaded are unknown, never undeclared.
 */
import type { DesiredState } from '../desired/model.js';
import type { Inventory, LiveTenant } from '../live/model.js';
import type { GuardFinding } from './model.js';
import { compareText } from './normalise.js';

export type ScopeMatcher = (orgId: string, slug: string | undefined) => boolean;

/** The inventory's scope; else a partial desired state's (its loaded org ids and requested slugs). */
export function planScope(desired: DesiredState | undefined, inventory: Inventory): Inventory['scope'] {
  if (inventory.scope.kind === 'tenants' || !desired?.partial) return inventory.scope;
  return { kind: 'tenants', orgIds: desired.tenants.map((t) => t.spec.orgId).sort(compareText), slugs: [...desired.partial.slugs] };
}

export function scopeMatcher(scope: Inventory['scope']): ScopeMatcher {
  if (scope.kind === 'all') return () => true;
  const orgIds = new Set(scope.orgIds);
  const slugs = new Set(scope.slugs);
  return (orgId, slug) => orgIds.has(orgId) || (slug !== undefined && slugs.has(slug));
}

export function scopeFinding(scope: { orgIds: string[]; slugs: string[] }, desired: DesiredState | undefined, live: Record<string, LiveTenant>): GuardFinding {
  const known = new Set<string>();
  for (const t of desired?.tenants ?? []) known.add(t.spec.orgId).add(t.spec.slug);
  for (const [orgId, t] of Object.entries(live)) {
    known.add(orgId);
    if (t.slug) known.add(t.slug);
  }
  const names = [...new Set([...scope.orgIds, ...scope.slugs])].sort(compareText);
  const unknown = names.filter((n) => !known.has(n));
  const note = unknown.length > 0 ? `; not declared nor live: ${unknown.join(', ')}` : '';
  return {
    guard: 'scope',
    blocking: false,
    message: `plan limited to ${scopeLabel(scope)}; tenants outside the scope are neither compared nor deleted${note}`,
    actionIds: [],
  };
}

/**
 * "1 tenant (acme)": a scope names each tenant by slug (its folder) and, when declared, by org id
 * too, so tenants are counted by slug; a scope given by org ids alone counts those.
 */
export function scopeLabel(scope: { orgIds: readonly string[]; slugs: readonly string[] }): string {
  const names = scope.slugs.length > 0 ? [...new Set(scope.slugs)] : [...new Set(scope.orgIds)];
  const listed = names.length <= 5 ? ` (${names.join(', ')})` : '';
  return `${names.length} tenant${names.length === 1 ? '' : 's'}${listed}`;
}
