/**
 * The planner: (desired, inventory) → plan. Pure — no I/O, no clock (`now` comes in through the
 * options), deterministic ordering — so the same inputs always give the same plan, byte for byte.
 * This module orchestrates; each rule lives beside the code that applies it: tenant.ts and
 * tenant-update.ts (declared tenants), instance.ts (power, type, image, volume, AMI, replacement),
 * workspace.ts (workspaces, moves), delete.ts (undeclared tenants' cascades), identity.ts (orgIds
 * and groups in use), context.ts (duplicates, action order), scope.ts, waves.ts, exit-code.ts;
 * guards.ts holds the destruction guards shared with apply's preflight, normalise.ts what
 * "exists", "running" and "protected" mean.
 *
 * Rules applied here:
 * - Identity. Tenants are matched by OrgID, workspaces by WorkspaceID within their tenant.
 *   Duplicate declarations (same OrgID, or same WorkspaceID within a tenant) are the
 *   validator's business; here the first one (in sorted order) wins.
 * - Guards. `emptyDesired`: no desired state, or zero tenants while tenants are live → blocking,
 *   and no action at all is planned. A partial state with zero tenants is not an empty fleet (the
 *   pull request removed the scoped tenants; the loader refuses a fleet with no tenant folder).
 *   `maxDeletes`, `maxTerminations`, `deletionProtection` and `declared` are the destruction
 *   guards of guards.ts, shared with apply's preflight (their rules are written there).
 *   `scope`: informational for scoped plans; blocking when the
 *   inventory was observed in another environment than the fleet declares (nothing planned).
 * - Order. Tenants by slug then org id; within a tenant, its own actions before its
 *   workspaces' (by workspace id); per target: replacement delete, create, repair, update,
 *   resize, start, redeploy, stop, delete. Apply must keep a target's actions in plan order.
 */
import type { BackupSettings } from '../contract.js';
import type { DesiredState, DesiredTenant } from '../desired/model.js';
import type { Inventory, LiveTenant } from '../live/model.js';
import { accountFor, type Account } from '../accounts.js';
import { accountsView, asMove, hasAwsIn, inAccount, liveIn, unobservedFinding, type AccountsView } from './accounts.js';
import { PlanContext } from './context.js';
import { hasAnythingLive, planTenantDelete } from './delete.js';
import { fingerprintInventory } from './fingerprint.js';
import { planSettings } from './intent.js';
import { evaluateDestructionGuards, withBlocks } from './guards.js';
import { flagGroupsInUse, flagSlugsLiveUnderAnotherOrg, workspaceHomes } from './identity.js';
import { ACTION_KINDS, PLAN_FORMAT_VERSION, type Action, type ActionKind, type GuardFinding, type GuardKind, type Plan, type PlanNotice } from './model.js';
import { compareText } from './normalise.js';
import { planScope, scopeFinding, scopeMatcher, type ScopeMatcher } from './scope.js';
import { planDeclaredTenant } from './tenant.js';
import { assignWaves } from './waves.js';

export interface PlanOptions {
  /** Recorded as `createdAt`; the planner never reads the clock. */
  now: string;
  /** `--allow-deletes N`: tenant deletes up to N pass the maxDeletes guard. */
  allowDeletes?: number | undefined;
  /** `--allow-terminations N`: up to N instance terminations pass the maxTerminations guard. */
  allowTerminations?: number | undefined;
  /** `--allow-replacements N`: up to N instance replacements pass the maxReplacements guard. */
  allowReplacements?: number | undefined;
  /** `--replace`: `<slug>` (the tenant's instance) or `<slug>/<workspace name or id>`. */
  replace?: readonly string[] | undefined;
  /** The git revision a scoped (pull request) plan compared against; recorded in the basis. */
  changedSince?: string;
  /**
   * TENANT_BACKUP_* as apply would write them into each bundle; compared with the bundle's
   * BackupConfig tag. Undefined: not compared (a pull request's plan runs without the wiring).
   */
  backup?: BackupSettings;
}

export function planChanges(desired: DesiredState | undefined, inventory: Inventory, opts: PlanOptions): Plan {
  const findings: GuardFinding[] = [];
  const notices: PlanNotice[] = [];
  let actions: Action[] = [];
  const scope = planScope(desired, inventory);
  const inScope = scopeMatcher(scope);
  const liveTenants = inventory.tenants ?? {};
  const accounts = accountsView(inventory);
  const liveOrgsInScope = Object.keys(liveTenants)
    .filter((orgId) => inScope(orgId, liveTenants[orgId]?.slug))
    .filter((orgId) => hasAnythingLive(liveTenants[orgId]!));

  if (scope.kind === 'tenants') findings.push(scopeFinding(scope, desired, liveTenants));

  if (desired && desired.fleet.environment !== inventory.environment) {
    findings.push({
      guard: 'scope',
      blocking: true,
      message: `the inventory was observed in environment "${inventory.environment}" but the fleet declares "${desired.fleet.environment}"; nothing is planned`,
      actionIds: [],
    });
  } else if (!desired) {
    findings.push({
      guard: 'emptyDesired',
      blocking: true,
      message: 'the desired state could not be read; nothing is planned (an unreadable fleet is never planned as "delete everything")',
      actionIds: [],
    });
  } else if (desired.tenants.length === 0 && !desired.partial && liveOrgsInScope.length > 0) {
    findings.push({
      guard: 'emptyDesired',
      blocking: true,
      message: `the fleet declares no tenants while ${liveOrgsInScope.length} are live; nothing is planned (an empty fleet is never planned as "delete everything")`,
      actionIds: [],
    });
  } else if (desired.tenants.length > 0 || desired.partial) {
    const ctx = new PlanContext(desired.fleet, inventory.environment, new Set(opts.replace ?? []), opts.backup);
    const unplanned: string[] = [];
    actions = planFleet(ctx, desired, liveTenants, inScope, accounts, unplanned);
    if (accounts.unobserved) findings.push(unobservedFinding(accounts.unobserved, unplanned.sort(compareText)));
    findings.push(...ctx.resolveFindings(actions));
    const guarded = evaluateDestructionGuards(actions, {
      inventory,
      desired,
      limits: desired.fleet.guards,
      allow: { deletes: opts.allowDeletes, terminations: opts.allowTerminations, replacements: opts.allowReplacements },
    });
    findings.push(...guarded.findings);
    // The planner's own holds (identity, groupInUse) stay beside the destruction guards'.
    const blocks = new Map(actions.map((a) => [a.id, [...(a.blockedBy ?? []), ...(guarded.blocks.get(a.id) ?? [])]]));
    actions = withBlocks(actions, blocks);
    notices.push(...ctx.notices());
  }

  findings.sort((a, b) => GUARD_RANK[a.guard] - GUARD_RANK[b.guard]);
  const summary = Object.fromEntries(ACTION_KINDS.map((k) => [k, 0])) as Record<ActionKind, number>;
  for (const a of actions) summary[a.kind] += 1;

  return {
    formatVersion: PLAN_FORMAT_VERSION,
    environment: desired?.fleet.environment ?? inventory.environment,
    createdAt: opts.now,
    settings: desired ? planSettings(desired.fleet) : null,
    basis: {
      commit: desired?.commit,
      desiredHash: desired?.hash ?? '',
      changedSince: opts.changedSince,
      scope: scope.kind === 'all' ? { kind: 'all' } : { kind: 'tenants', orgIds: [...scope.orgIds], slugs: [...scope.slugs] },
      fingerprints: fingerprintInventory(inventory, { actions }),
      replace: [...new Set(opts.replace ?? [])].sort(compareText),
    },
    actions,
    guards: findings,
    notices,
    summary,
    ...(inventory.accounts ? { accounts: structuredClone(inventory.accounts) } : {}),
  };
}

const GUARD_RANK: Record<GuardKind, number> = {
  emptyDesired: 0,
  scope: 1,
  identity: 2,
  maxDeletes: 3,
  maxTerminations: 4,
  maxReplacements: 4.5,
  deletionProtection: 5,
  declared: 6,
  groupInUse: 7,
  duplicateLive: 8,
  volumeShrink: 9,
  quota: 10,
  account: 11,
};

function planFleet(
  ctx: PlanContext,
  desired: DesiredState,
  liveTenants: Record<string, LiveTenant>,
  inScope: ScopeMatcher,
  accounts: AccountsView,
  unplanned: string[],
): Action[] {
  const declared = new Map<string, DesiredTenant>();
  for (const t of [...desired.tenants].sort((a, b) => compareText(a.spec.slug, b.spec.slug) || compareText(a.spec.orgId, b.spec.orgId))) {
    if (!declared.has(t.spec.orgId)) declared.set(t.spec.orgId, t);
  }
  ctx.homes = workspaceHomes(declared, liveTenants);
  const groups: { slug: string; orgId: string; actions: Action[] }[] = [];
  for (const [orgId, d] of declared) {
    const live = liveTenants[orgId];
    if (!inScope(orgId, d.spec.slug) && !inScope(orgId, live?.slug)) continue;
    if (!accounts.configured) {
      groups.push({ slug: d.spec.slug, orgId, actions: planDeclaredTenant(ctx, d, live) });
      continue;
    }
    const want = accountFor(d.spec.canary, true);
    const old: Account = want === 'main' ? 'canary' : 'main';
    // Unknown, never absent: a canary tenant, or one with nothing of its AWS side in main, may live in the unobserved account.
    if (accounts.unobserved && (want === 'canary' || (live && hasAnythingLive(live) && !hasAwsIn(live, 'main')))) {
      unplanned.push(d.spec.slug);
      continue;
    }
    let actions = inAccount(planDeclaredTenant(ctx, d, live && liveIn(live, want, true)), want);
    const away = live && hasAwsIn(live, old) ? planTenantDelete(orgId, liveIn(live, old, false)) : undefined;
    if (away) {
      const first = actions.findIndex((a) => a.target.kind === 'tenant' && (a.kind === 'create' || a.kind === 'repair'));
      actions = actions.map((a, i) => (i === first ? asMove(a, old, want) : a));
      actions.push(...inAccount([asMove(away, old, want)], old));
    }
    groups.push({ slug: d.spec.slug, orgId, actions });
  }
  for (const orgId of Object.keys(liveTenants)) {
    const live = liveTenants[orgId]!;
    if (declared.has(orgId) || !inScope(orgId, live.slug)) continue;
    if (!accounts.configured) {
      const del = planTenantDelete(orgId, live);
      if (del) groups.push({ slug: del.target.slug, orgId, actions: [del] });
      continue;
    }
    const where: Account = !hasAwsIn(live, 'main') && hasAwsIn(live, 'canary') ? 'canary' : 'main';
    if (accounts.unobserved && where === 'main' && !hasAwsIn(live, 'main')) {
      unplanned.push(live.slug ?? orgId);
      continue;
    }
    // Its other account's part, if any, is the next plan's (one delete per tenant and plan).
    const del = planTenantDelete(orgId, liveIn(live, where, true));
    if (del) groups.push({ slug: del.target.slug, orgId, actions: inAccount([del], where) });
  }
  groups.sort((a, b) => compareText(a.slug, b.slug) || compareText(a.orgId, b.orgId));
  const actions = groups.flatMap((g) => g.actions);
  flagSlugsLiveUnderAnotherOrg(ctx, actions, declared, liveTenants, inScope);
  flagGroupsInUse(ctx, actions, liveTenants);
  assignWaves(actions, declared, ctx.fleet.rollout.batches);
  return actions;
}
