/**
 * What apply checks before anything mutates: a saved plan is still true of the world (OpenTofu's
 * stale-plan rule), and no blocking guard stands — re-derived here, not read from the plan.
 * `--allow-deletes N` / `--allow-terminations N` can lift the maxDeletes / maxTerminations
 * guards only; deletion protection, a delete of something still declared, an empty desired state
 * and an environment mismatch cannot be overridden. The act steps read the protection tags once
 * more right before they terminate or delete (apply/protection.ts). The quota guard is re-derived
 * too, from a fresh read of the quotas (app/quotas.ts): a saved plan's quota findings are dropped here.
 */
import { desiredHash } from '../desired/hash.js';
import type { DesiredState, FleetSpec } from '../desired/model.js';
import { InternalError } from '../errors.js';
import type { Inventory } from '../live/model.js';
import type { ObserveScope } from '../live/observe.js';
import { comparePlanBasis, fingerprintInventory, type StaleReason } from '../plan/fingerprint.js';
import { DESTRUCTION_GUARDS, evaluateDestructionGuards, withBlocks, type GuardAllowances } from '../plan/guards.js';
import type { GuardFinding, GuardKind, Plan } from '../plan/model.js';
import { QUOTA_GUARDS } from '../plan/quotas.js';

/** Guards apply derives afresh: the destruction guards here, the quota guard in app/quotas.ts right after. */
const REDERIVED: ReadonlySet<GuardKind> = new Set([...DESTRUCTION_GUARDS, ...QUOTA_GUARDS]);

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

/**
 * What moved since a saved plan was made; empty when it can be applied as it is. `desired`
 * undefined: the fleet repository is not at hand (a saved plan applied on its own), so only the
 * live side is compared.
 */
export function staleReasons(saved: Plan, fresh: Inventory, desired: DesiredState | undefined): StaleReason[] {
  const reasons: StaleReason[] = [];
  if (desired && saved.environment !== desired.fleet.environment) {
    reasons.push({ kind: 'desiredChanged', message: `the plan was made for environment ${saved.environment}, the fleet declares ${desired.fleet.environment}` });
  }
  const hash = desired ? desiredHashInScope(saved.basis.scope, desired) : saved.basis.desiredHash;
  reasons.push(...comparePlanBasis(saved, fingerprintInventory(fresh, saved), hash));
  return reasons;
}

/**
 * A scoped plan (plan --changed-since) hashed only its scope's tenants (loadFleet's `only`);
 * apply loads the whole fleet, so it hashes the same tenants to compare like with like.
 */
function desiredHashInScope(scope: Plan['basis']['scope'], desired: DesiredState): string {
  if (scope.kind === 'all') return desired.hash;
  const slugs = new Set(scope.slugs);
  return desiredHash(
    desired.fleet,
    desired.tenants.filter((t) => slugs.has(t.spec.slug)),
  );
}

export interface GuardVerdict {
  /** Blocking findings that still stand; apply refuses (exit 3) when any is left. */
  refusals: GuardFinding[];
  /** Every finding of the re-check, blocking or not (e.g. a limit lifted by --allow-*). */
  findings: GuardFinding[];
  /** The plan with `blockedBy` and its destruction findings set from the re-check alone (whatever the plan file said). */
  plan: Plan;
}

export interface GuardCheckInputs {
  /** What is live now: the fresh observation apply made (scoped to a saved plan's tenants). */
  inventory: Inventory;
  /** The fleet repository apply loaded: deletes of what it declares are refused. Undefined: not at hand. */
  desired: DesiredState | undefined;
  /** maxDeletes / maxTerminations; default the fleet repository's (a saved plan applied on its own passes its `settings.guards`). */
  limits?: FleetSpec['guards'];
  allow: GuardAllowances;
}

/**
 * Re-derives the destruction guards for this apply from the plan's actions, the fresh
 * observation and the fleet repository (src/plan/guards.ts, the planner's own rules), never from
 * the plan's `guards` list or `blockedBy` marks: an edited plan file cannot lift a guard, and a
 * saved plan made without `--allow-deletes`/`--allow-terminations` can be applied with them.
 * Findings of every other kind (an empty fleet, another environment, …) are the planner's alone:
 * the plan's blocking ones, and the marks they left on actions, are kept — they only ever add.
 */
export function evaluateGuards(plan: Plan, inputs: GuardCheckInputs): GuardVerdict {
  const result = evaluateDestructionGuards(plan.actions, {
    inventory: inputs.inventory,
    desired: inputs.desired,
    limits: guardLimits(inputs),
    allow: inputs.allow,
  });
  const kept = plan.guards.filter((g) => !REDERIVED.has(g.guard));
  const refusals = [...kept.filter((g) => g.blocking), ...result.findings.filter((g) => g.blocking)];
  const blocks = new Map<string, GuardKind[]>();
  for (const a of plan.actions) {
    const by = [...(a.blockedBy ?? []).filter((g) => !REDERIVED.has(g)), ...(result.blocks.get(a.id) ?? [])];
    if (by.length > 0) blocks.set(a.id, by);
  }
  return { refusals, findings: result.findings, plan: { ...plan, guards: [...kept, ...result.findings], actions: withBlocks(plan.actions, blocks) } };
}

function guardLimits(inputs: GuardCheckInputs): FleetSpec['guards'] {
  const limits = inputs.limits ?? inputs.desired?.fleet.guards;
  if (!limits) throw new InternalError('the guards need limits: the fleet repository or the plan settings', { operation: 'check guards' });
  return limits;
}
