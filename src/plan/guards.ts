/**
 * The destruction guards, in one place: the planner runs them over the actions it just made, and
 * apply's preflight runs them again over the actions it is about to execute (a saved plan's, from
 * a file anyone could have edited) against a fresh observation and the fleet repository. Nothing
 * here reads a plan's own `guards` list or `blockedBy` marks: every finding is derived from the
 * actions, the inventory and the desired state. Pure, like the rest of src/plan.
 *
 * - maxDeletes: tenant deletes (not replacements) over `guards.maxDeletes` block unless
 *   `--allow-deletes N` covers them.
 * - maxTerminations: instances terminated outside a tenant cascade — every instance step of a
 *   workspace delete and of the delete half of a replacement — over `guards.maxTerminations`
 *   block unless `--allow-terminations N` covers them. Counted from the steps because apply
 *   terminates only the instances a step names (see apply/workspace.ts, apply/update.ts).
 * - maxReplacements: instances replaced (the delete half of each replacement: an AMI --replace,
 *   a volume shrink, a type that cannot change in place) over `guards.maxReplacements` block both
 *   halves unless `--allow-replacements N` covers them. Counted on top of maxTerminations (a
 *   replacement terminates too): rolling them in waves bounds how many go at once, this bounds how
 *   many a plan may hold. A spec or plan made before the guard existed has no limit for it.
 * - deletionProtection: a delete or a replacement (both halves) is blocked when the tenant is
 *   protected — any of its live resources carries DeletionProtection=true (the live tag wins
 *   over the file: protection outlives the file's change), or, for a declared tenant, the file
 *   declares it. A protected tenant's workspaces are protected too; a workspace is also
 *   protected when its own resources carry the tag.
 * - declared: a delete (not a replacement) of a tenant or workspace the fleet repository still
 *   declares. The planner never makes one; an edited plan file can. A move's delete (src/plan/accounts.ts)
 *   passes only when it is in the account the tenant left for the one its file declares.
 * - Moves between accounts: the delete half counts as a tenant delete (maxDeletes) and as a
 *   replacement (maxReplacements); anything that holds it holds the create half too.
 */
import { accountOf } from '../accounts.js';
import { Tag } from '../contract.js';
import type { DesiredState, FleetSpec } from '../desired/model.js';
import type { Inventory, LiveTenant } from '../live/model.js';
import type { Action, ActionTarget, GuardFinding, GuardKind } from './model.js';
import { isProtectedTag } from './normalise.js';

/** The guards this module derives; any other kind is the planner's alone (see apply/preflight.ts). */
export const DESTRUCTION_GUARDS: ReadonlySet<GuardKind> = new Set<GuardKind>(['maxDeletes', 'maxTerminations', 'maxReplacements', 'deletionProtection', 'declared']);

export interface GuardAllowances {
  /** `--allow-deletes N`. */
  deletes?: number | undefined;
  /** `--allow-terminations N`. */
  terminations?: number | undefined;
  /** `--allow-replacements N`. */
  replacements?: number | undefined;
}

export interface GuardInputs {
  inventory: Inventory;
  /** The fleet repository, when at hand: enables the `declared` guard and declared protection. */
  desired?: DesiredState | undefined;
  limits: FleetSpec['guards'];
  allow: GuardAllowances;
}

export interface GuardResult {
  findings: GuardFinding[];
  /** Action id → guards that block it, in a fixed order (protection, declared, then limits). */
  blocks: Map<string, GuardKind[]>;
}

/** A tenant delete for maxDeletes: the whole cascade, never a replacement's half. */
export function isTenantDelete(a: Action): boolean {
  return a.kind === 'delete' && a.target.kind === 'tenant' && !a.replacement;
}

/** Instances an action terminates outside a tenant cascade (0 for anything else). */
export function terminationsOf(a: Action): number {
  if (a.kind !== 'delete' || isTenantDelete(a)) return 0;
  return a.steps.filter((s) => s.resource === 'instance' && s.op === 'delete').length;
}

/** Deletes and both halves of replacements and of account moves: what deletion protection stops. */
function isDestructive(a: Action): boolean {
  return a.kind === 'delete' || (a.kind === 'create' && a.replacement === true) || a.move !== undefined;
}

export function isTenantProtected(live: LiveTenant | undefined): boolean {
  if (!live) return false;
  if (live.deletionProtection) return true;
  const tagged = [...(live.instances ?? []), ...(live.securityGroups ?? []), ...(live.secrets ?? [])];
  return tagged.some((r) => isProtectedTag(r.tags));
}

export function isWorkspaceTagged(live: LiveTenant | undefined, workspaceId: string | undefined): boolean {
  const w = workspaceId === undefined ? undefined : live?.workspaces?.[workspaceId];
  if (!w) return false;
  return [...(w.instances ?? []), ...(w.securityGroups ?? [])].some((r) => isProtectedTag(r.tags));
}

export function describeTarget(t: ActionTarget): string {
  return t.kind === 'tenant' ? `tenant ${t.slug} (org ${t.orgId})` : `workspace ${t.workspaceName ?? t.workspaceId} of tenant ${t.slug} (org ${t.orgId})`;
}

function targetKey(t: ActionTarget): string {
  return t.kind === 'tenant' ? `tenant:${t.orgId}` : `workspace:${t.orgId}:${t.workspaceId ?? ''}`;
}

export function evaluateDestructionGuards(actions: readonly Action[], inputs: GuardInputs): GuardResult {
  const blocks = new Map<string, GuardKind[]>();
  const block = (a: Action, g: GuardKind): void => {
    const list = blocks.get(a.id) ?? [];
    if (!list.includes(g)) list.push(g);
    blocks.set(a.id, list);
  };
  const findings: GuardFinding[] = [];
  findings.push(...protectionFindings(actions, inputs, block));
  findings.push(...declaredFindings(actions, inputs.desired, block));
  const deletes = actions.filter(isTenantDelete);
  const deleteFinding = limitFinding({
    guard: 'maxDeletes',
    count: deletes.length,
    max: inputs.limits.maxDeletes,
    allow: inputs.allow.deletes,
    what: 'tenant deletes',
    flag: '--allow-deletes',
    actions: deletes,
  });
  if (deleteFinding) {
    findings.push(deleteFinding);
    if (deleteFinding.blocking) for (const a of deletes) block(a, 'maxDeletes');
  }
  const terminating = actions.filter((a) => terminationsOf(a) > 0);
  const count = terminating.reduce((n, a) => n + terminationsOf(a), 0);
  const terminationFinding = limitFinding({
    guard: 'maxTerminations',
    count,
    max: inputs.limits.maxTerminations,
    allow: inputs.allow.terminations,
    what: 'instance terminations outside a tenant cascade (workspace deletes and replacements)',
    flag: '--allow-terminations',
    actions: terminating,
  });
  if (terminationFinding) {
    findings.push(terminationFinding);
    if (terminationFinding.blocking) {
      // A replacement is one change: its create waits on its delete, so both halves are held.
      const held = new Set(terminating.map((a) => targetKey(a.target)));
      const blocked = actions.filter((a) => held.has(targetKey(a.target)) && (terminationsOf(a) > 0 || (a.kind === 'create' && a.replacement === true)));
      for (const a of blocked) block(a, 'maxTerminations');
      terminationFinding.actionIds = blocked.map((a) => a.id);
    }
  }
  findings.push(...replacementFindings(actions, inputs, block));
  // A move is one change too: whatever holds its delete holds its create (two live homes would share one tunnel).
  for (const a of actions) {
    if (!a.move || a.kind !== 'delete') continue;
    for (const g of blocks.get(a.id) ?? [])
      for (const other of actions) if (other.move && other.id !== a.id && targetKey(other.target) === targetKey(a.target)) block(other, g);
  }
  return { findings, blocks };
}

/** The delete half of a replacement: one replaced instance (or workspace instance set), or a tenant's old cascade in a move. */
export function isReplacementDelete(a: Action): boolean {
  return a.kind === 'delete' && (a.replacement === true || a.move !== undefined);
}

function replacementFindings(actions: readonly Action[], inputs: GuardInputs, block: (a: Action, g: GuardKind) => void): GuardFinding[] {
  const max = inputs.limits.maxReplacements;
  if (max === undefined) return [];
  const replacing = actions.filter(isReplacementDelete);
  const held = new Set(replacing.map((a) => targetKey(a.target)));
  const halves = actions.filter((a) => (a.replacement === true || a.move !== undefined) && held.has(targetKey(a.target)));
  const finding = limitFinding({
    guard: 'maxReplacements',
    count: replacing.length,
    max,
    allow: inputs.allow.replacements,
    what: replacing.some((a) => a.move) ? 'instance replacements (account moves included)' : 'instance replacements',
    flag: '--allow-replacements',
    actions: halves,
  });
  if (!finding) return [];
  if (finding.blocking) for (const a of halves) block(a, 'maxReplacements');
  return [finding];
}

/** The actions with `blockedBy` set from a guard result (and nothing else). */
export function withBlocks(actions: readonly Action[], blocks: Map<string, GuardKind[]>): Action[] {
  return actions.map((a) => {
    const { blockedBy: _ignored, ...rest } = a;
    const by = blocks.get(a.id);
    return by && by.length > 0 ? { ...rest, blockedBy: [...by] } : rest;
  });
}

function limitFinding(o: {
  guard: GuardKind;
  count: number;
  max: number;
  allow: number | undefined;
  what: string;
  flag: string;
  actions: Action[];
}): GuardFinding | undefined {
  if (o.count === 0 || !(o.count > o.max)) return undefined;
  const ids = o.actions.map((a) => a.id);
  if (o.allow !== undefined && o.allow >= o.count) {
    return { guard: o.guard, blocking: false, message: `${o.count} ${o.what} exceed guards.${o.guard} (${o.max}); allowed by ${o.flag} ${o.allow}`, actionIds: ids };
  }
  const given = o.allow === undefined ? '' : ` (${o.flag} ${o.allow} is not enough)`;
  return {
    guard: o.guard,
    blocking: true,
    message: `${o.count} ${o.what} exceed guards.${o.guard} (${o.max})${given}; pass ${o.flag} ${o.count} to proceed`,
    actionIds: ids,
  };
}

function protectionFindings(actions: readonly Action[], inputs: GuardInputs, block: (a: Action, g: GuardKind) => void): GuardFinding[] {
  const declared = new Map((inputs.desired?.tenants ?? []).map((t) => [t.spec.orgId, t]));
  const byTarget = new Map<string, Action[]>();
  for (const a of actions.filter(isDestructive)) byTarget.set(targetKey(a.target), [...(byTarget.get(targetKey(a.target)) ?? []), a]);
  const findings: GuardFinding[] = [];
  for (const group of byTarget.values()) {
    const t = group[0]!.target;
    const live = inputs.inventory.tenants?.[t.orgId];
    const tenantLive = isTenantProtected(live);
    const tenantDeclared = declared.get(t.orgId)?.spec.deletionProtection === true;
    const own = t.kind === 'workspace' && isWorkspaceTagged(live, t.workspaceId);
    if (!tenantLive && !tenantDeclared && !own) continue;
    for (const a of group) block(a, 'deletionProtection');
    const replacing = group.every((a) => a.replacement);
    const tenantWhy = tenantLive ? `live ${Tag.deletionProtection}=true` : 'deletionProtection: true in its file';
    const why =
      t.kind === 'workspace' && (tenantLive || tenantDeclared)
        ? `its tenant ${t.slug} is protected (${tenantWhy}), so its workspaces are too`
        : tenantLive || own
          ? `its live resources carry ${Tag.deletionProtection}=true`
          : 'it declares deletionProtection: true';
    let message: string;
    if (replacing) {
      message = `${describeTarget(t)}: ${why}; replacing its instance is refused (set deletionProtection: false and apply first)`;
    } else if (t.kind === 'tenant' && !declared.has(t.orgId)) {
      message = `${describeTarget(t)} is no longer declared but ${why}; its delete is refused (declare it with deletionProtection: false, apply, then remove it)`;
    } else {
      message = `${describeTarget(t)}: ${why}; its delete is refused`;
    }
    findings.push({ guard: 'deletionProtection', blocking: true, message, actionIds: group.map((a) => a.id) });
  }
  return findings;
}

function declaredFindings(actions: readonly Action[], desired: DesiredState | undefined, block: (a: Action, g: GuardKind) => void): GuardFinding[] {
  if (!desired) return [];
  const tenants = new Map(desired.tenants.map((t) => [t.spec.orgId, t]));
  const findings: GuardFinding[] = [];
  for (const a of actions) {
    if (a.kind !== 'delete' || a.replacement) continue;
    const t = tenants.get(a.target.orgId);
    if (!t) continue;
    // A move's delete is of the old account's cascade: declared elsewhere is what makes it a move.
    if (a.move && a.target.kind === 'tenant' && accountOf(a) === a.move.from && a.move.to === (t.spec.canary ? 'canary' : 'main') && a.move.from !== a.move.to) continue;
    const ws = a.target.kind === 'workspace' ? t.workspaces.find((w) => w.spec.id === a.target.workspaceId) : undefined;
    if (a.target.kind === 'workspace' && !ws) continue;
    block(a, 'declared');
    const where = ws ? ws.source.file : t.source.file;
    findings.push({
      guard: 'declared',
      blocking: true,
      message: `${describeTarget(a.target)} is still declared in the fleet repository (${where}); a plan that deletes it is refused`,
      actionIds: [a.id],
    });
  }
  return findings;
}
