/**
 * What apply checks before anything mutates: a saved plan is still true of the world (OpenTofu's
 * stale-plan rule), and no blocking guard stands. `--allow-deletes N` can lift the maxDeletes
 * guard only; deletion protection, an empty desired state and an environment mismatch cannot be
 * overridden.
 */
import { desiredHash } from '../desired/hash.js';
import type { DesiredState } from '../desired/model.js';
import type { Inventory } from '../live/model.js';
import type { ObserveScope } from '../live/observe.js';
import { comparePlanBasis, fingerprintInventory, type StaleReason } from '../plan/fingerprint.js';
import type { Action, GuardFinding, Plan } from '../plan/model.js';

/** The tenants a saved plan touches, to re-observe only those. */
export function observeScopeFor(plan: Plan): ObserveScope {
  const slugs = new Set<string>();
  const orgIds = new Set<string>();
  for (const a of plan.actions) {
    slugs.add(a.target.slug);
    orgIds.add(a.target.orgId);
  }
  if (plan.basis.scope.kind === 'tenants') {
    for (const s of plan.basis.scope.slugs) slugs.add(s);
    for (const o of plan.basis.scope.orgIds) orgIds.add(o);
  }
  return { slugs: [...slugs].sort(), orgIds: [...orgIds].sort() };
}

/** What moved since a saved plan was made; empty when it can be applied as it is. */
export function staleReasons(saved: Plan, fresh: Inventory, desired: DesiredState): StaleReason[] {
  const reasons: StaleReason[] = [];
  if (saved.environment !== desired.fleet.environment) {
    reasons.push({ kind: 'desiredChanged', message: `the plan was made for environment ${saved.environment}, the fleet declares ${desired.fleet.environment}` });
  }
  reasons.push(...comparePlanBasis(saved, fingerprintInventory(fresh, saved), desiredHashInScope(saved.basis.scope, desired)));
  return reasons;
}

/**
 * A scoped plan (plan --changed-since) hashed only its scope's tenants (loadFleet's `only`);
 * apply loads the whole fleet, so it hashes the same tenants to compare like with like.
 */
function desiredHashInScope(scope: Plan['basis']['scope'], desired: DesiredState): string {
  if (scope.kind === 'all') return desired.hash;
  const slugs = new Set(scope.slugs);
  return desiredHash(desired.fleet, desired.tenants.filter((t) => slugs.has(t.spec.slug)));
}

export interface GuardVerdict {
  /** Blocking findings that still stand; apply refuses (exit 3) when any is left. */
  refusals: GuardFinding[];
  /** The plan with the maxDeletes block lifted from its actions when `--allow-deletes` covers them. */
  plan: Plan;
}

function isTenantDelete(a: Action): boolean {
  return a.kind === 'delete' && a.target.kind === 'tenant' && !a.replacement;
}

/**
 * Re-evaluates the plan's guards for this apply. maxDeletes is recomputed from the actions with
 * this run's `allowDeletes` (a saved plan may have been made without the flag); every other
 * blocking finding stands as the planner made it.
 */
export function evaluateGuards(plan: Plan, maxDeletes: number, allowDeletes: number | undefined): GuardVerdict {
  const refusals = plan.guards.filter((g) => g.blocking && g.guard !== 'maxDeletes');
  const deletes = plan.actions.filter(isTenantDelete);
  const overLimit = deletes.length > maxDeletes;
  const allowed = overLimit && allowDeletes !== undefined && allowDeletes >= deletes.length;
  if (overLimit && !allowed) {
    const given = allowDeletes === undefined ? '' : ` (--allow-deletes ${allowDeletes} is not enough)`;
    refusals.push({
      guard: 'maxDeletes',
      blocking: true,
      message: `${deletes.length} tenant deletes exceed guards.maxDeletes (${maxDeletes})${given}; pass --allow-deletes ${deletes.length} to proceed`,
      actionIds: deletes.map((a) => a.id),
    });
  }
  const actions = plan.actions.map((a) => {
    if (!a.blockedBy?.includes('maxDeletes') || overLimit && !allowed) return a;
    const rest = a.blockedBy.filter((g) => g !== 'maxDeletes');
    const { blockedBy: _dropped, ...unblocked } = a;
    return rest.length > 0 ? { ...unblocked, blockedBy: rest } : unblocked;
  });
  return { refusals, plan: { ...plan, actions } };
}
