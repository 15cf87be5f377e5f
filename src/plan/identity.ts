/**
 * Identity findings over the whole plan, once every action is known: where each workspace is
 * declared and live (for moves), slugs live under another org, and groups still in use.
 *
 * - An orgId never changes in place. A declared slug live under another org that holds a VM or a
 *   bundle (an edited orgId, or a slug handed to a new org before the old one was removed or
 *   renamed) is a blocking `identity` finding naming both orgs, and its actions are blocked: a
 *   delete + create would destroy the tenant's database. A purged org's leftovers that hold
 *   nothing (tunnel, record, group) are deleted and cleaned by the create as before.
 * - Groups in use. A security group a delete removes while a standing instance the plan neither
 *   deletes nor moves out still uses it is a blocking `groupInUse` finding naming the instance:
 *   otherwise apply would retry DependencyViolation until its deadline on every run.
 */
import type { DesiredTenant } from '../desired/model.js';
import type { LiveInstance, LiveTenant } from '../live/model.js';
import { block, targetKey, type PlanContext, type WorkspaceHomes } from './context.js';
import { describeTarget } from './guards.js';
import type { Action, ActionTarget } from './model.js';
import { compareText, isExisting } from './normalise.js';
import type { ScopeMatcher } from './scope.js';

export function workspaceHomes(declared: Map<string, DesiredTenant>, liveTenants: Record<string, LiveTenant>): WorkspaceHomes {
  const homes: WorkspaceHomes = { declared: new Map(), live: new Map(), groupOwners: new Map() };
  for (const [orgId, d] of declared) {
    for (const w of d.workspaces) {
      if (!homes.declared.has(w.spec.id)) homes.declared.set(w.spec.id, { kind: 'tenant', orgId, slug: d.spec.slug });
    }
  }
  for (const orgId of Object.keys(liveTenants).sort(compareText)) {
    const t = liveTenants[orgId]!;
    const slug = t.slug ?? orgId;
    for (const g of t.securityGroups ?? []) homes.groupOwners.set(g.groupId, { kind: 'tenant', orgId, slug });
    for (const [wid, w] of Object.entries(t.workspaces ?? {})) {
      for (const g of w.securityGroups ?? []) homes.groupOwners.set(g.groupId, { kind: 'workspace', orgId, slug, workspaceId: wid });
      if (!(w.instances ?? []).some(isExisting) && (w.securityGroups ?? []).length === 0) continue;
      homes.live.set(wid, [...(homes.live.get(wid) ?? []), { kind: 'tenant', orgId, slug: t.slug ?? orgId }]);
    }
  }
  return homes;
}

/** Resources that hold a tenant's data or identity: a VM (its database) or its bundle of generated secrets. */
function holdsData(t: LiveTenant): boolean {
  if ((t.instances ?? []).some(isExisting) || (t.secrets ?? []).some((s) => !s.deletedDate)) return true;
  return Object.values(t.workspaces ?? {}).some((w) => (w.instances ?? []).some(isExisting));
}

/**
 * An orgId never changes in place: a declared slug live under another org that still holds a VM
 * or a bundle is an edited orgId (or a slug given to a new org before the old one was removed),
 * and planning it as "delete that org, create this one" would destroy the tenant's database and
 * let the create's stale-artifact cleanup take the live tenant's tunnel and DNS record. Refused,
 * naming both orgs. Leftovers that hold nothing (a purged org's tunnel or record) are still
 * cleaned as before.
 */
export function flagSlugsLiveUnderAnotherOrg(
  ctx: PlanContext,
  actions: Action[],
  declared: Map<string, DesiredTenant>,
  liveTenants: Record<string, LiveTenant>,
  inScope: ScopeMatcher,
): void {
  // Live orgs by slug, each in org id order: sorting every live org once per declared tenant made
  // this quadratic in the fleet size (most of the 10,000-tenant planner bench's time).
  const liveBySlug = new Map<string, string[]>();
  for (const other of Object.keys(liveTenants).sort(compareText)) {
    const liveSlug = liveTenants[other]!.slug;
    if (liveSlug === undefined) continue;
    const orgs = liveBySlug.get(liveSlug);
    if (orgs) orgs.push(other);
    else liveBySlug.set(liveSlug, [other]);
  }
  for (const [orgId, d] of declared) {
    const slug = d.spec.slug;
    if (!inScope(orgId, slug)) continue;
    for (const other of liveBySlug.get(slug) ?? []) {
      const live = liveTenants[other]!;
      if (other === orgId || live.slug !== slug || !holdsData(live)) continue;
      const elsewhere = declared.get(other);
      const file = d.source.file || `tenants/${slug}/tenant.yaml`;
      const how = elsewhere
        ? `org ${other} is declared as ${elsewhere.spec.slug} now: apply that rename first, then give the slug ${slug} to org ${orgId}`
        : `if the orgId was edited by mistake, restore orgId: ${other} in ${file}; if org ${other} is really gone and ${slug} is reused by a new org, remove the tenant's folder and apply (that deletes org ${other}'s tenant), then add it back with orgId ${orgId}`;
      const affected = actions.filter((a) => a.target.orgId === orgId || a.target.orgId === other);
      for (const a of affected) block(a, 'identity');
      ctx.flag(
        'identity',
        true,
        `tenant ${slug}: the fleet declares org ${orgId}, but ${slug} is live under org ${other}; an orgId never changes in place, and a delete of org ${other} with a create of org ${orgId} would destroy its VM and database, so this plan is refused — ${how}`,
        [...new Map(affected.map((a) => [targetKey(a.target), a.target])).values()],
      );
    }
  }
}

/**
 * A security group the plan deletes while an instance the plan keeps still uses it can never be
 * deleted (DependencyViolation until the deadline, on every apply): refused at plan time, naming
 * the instance. Instances shutting down or terminated let go by themselves and do not count.
 */
export function flagGroupsInUse(ctx: PlanContext, actions: Action[], liveTenants: Record<string, LiveTenant>): void {
  const deleted = new Set(actions.flatMap((a) => a.steps).flatMap((s) => (s.resource === 'instance' && s.op === 'delete' && s.id ? [s.id] : [])));
  // A workspace repair moves its instance out of every group that is not its own.
  const leaving = new Set(
    actions
      .filter((a) => a.kind === 'repair' && a.target.kind === 'workspace')
      .flatMap((a) => a.steps)
      .flatMap((s) => (s.resource === 'instance' && s.op === 'modify' && s.id ? [s.id] : [])),
  );
  const users = new Map<string, { instance: LiveInstance; owner: ActionTarget }[]>();
  const use = (instance: LiveInstance, owner: ActionTarget) => {
    if (!isExisting(instance) || deleted.has(instance.instanceId)) return;
    for (const g of instance.securityGroupIds ?? []) users.set(g, [...(users.get(g) ?? []), { instance, owner }]);
  };
  for (const orgId of Object.keys(liveTenants).sort(compareText)) {
    const t = liveTenants[orgId]!;
    const slug = t.slug ?? orgId;
    for (const i of t.instances ?? []) use(i, { kind: 'tenant', orgId, slug });
    for (const [wid, w] of Object.entries(t.workspaces ?? {})) for (const i of w.instances ?? []) use(i, { kind: 'workspace', orgId, slug, workspaceId: wid });
  }
  for (const a of actions) {
    if (a.kind !== 'delete') continue;
    for (const s of a.steps) {
      if (s.resource !== 'securityGroup' || s.op !== 'delete' || !s.id) continue;
      const holders = (users.get(s.id) ?? []).filter((h) => !leaving.has(h.instance.instanceId));
      if (holders.length === 0) continue;
      block(a, 'groupInUse');
      const named = holders.map((h) => `${h.instance.instanceId} (${describeTarget(h.owner)}, ${h.instance.state})`).join(', ');
      ctx.flag(
        'groupInUse',
        true,
        `${describeTarget(a.target)}: its security group ${s.id} is still used by instance ${named}, which this plan does not delete, so the group could not be deleted (DependencyViolation); detach the instance from the group (give it a group of its own) or delete it, then plan again`,
        [a.target],
      );
    }
  }
}
