/**
 * Workspaces under a declared tenant: create, repair (a missing group, or an instance sitting in
 * another's group), the instance's changes (instance.ts), tag updates, and deletes of workspaces
 * no longer declared there.
 *
 * - Moves. A workspace that moved to another org is a delete under the old org and a create
 *   under the new (both reasons say "moved"); the two run in parallel, which is safe because
 *   workspace group names carry the org (contract.ts). A workspace instance found in a group
 *   that another tenant or workspace owns (a move made under the old, org-less names) gets a
 *   `repair` that moves it into its own group.
 * - Replacement: a workspace's Runtime tag changing, or a workspace leaving the containerised
 *   path (its native runtime is laid down at first boot), cannot change in place (instance.ts).
 * - Tags that matter: OrgSlug, Tier and the tenant's DeletionProtection on a workspace
 *   instance, OrgSlug and DeletionProtection on its security groups (a protected tenant's
 *   workspaces carry the tag too).
 * - A live workspace with no declaration under a declared tenant is deleted (instances, security
 *   groups); its deletion protection is judged in guards.ts.
 */
import { Tag } from '../contract.js';
import type { DesiredTenant, DesiredWorkspace } from '../desired/model.js';
import type { LiveWorkspace } from '../live/model.js';
import { action, flagDuplicates, targetKey, type PlanContext } from './context.js';
import { describeTarget } from './guards.js';
import { planInstanceChanges, type InstanceIntent } from './instance.js';
import { declaredIntent, workspaceDeleteIntent } from './intent-build.js';
import type { Action, ActionTarget, Attributes, Step } from './model.js';
import { byAge, compareText, isExisting, isNotTerminated, isProtectedTag } from './normalise.js';

export function planDeclaredWorkspace(ctx: PlanContext, tenant: DesiredTenant, w: DesiredWorkspace, live: LiveWorkspace | undefined): Action[] {
  const target: ActionTarget = { kind: 'workspace', orgId: tenant.spec.orgId, slug: tenant.spec.slug, workspaceId: w.spec.id, workspaceName: w.spec.name };
  const instances = (live?.instances ?? []).filter(isExisting).sort(byAge);
  const groups = [...(live?.securityGroups ?? [])].sort((a, b) => compareText(a.groupId, b.groupId));
  flagDuplicates(ctx, target, [
    ['instances', instances.map((i) => i.instanceId)],
    ['security groups', groups.map((g) => g.groupId)],
  ]);
  const instance = instances[0];
  const declared = declaredIntent(tenant, w);
  const createAttributes: Attributes = {
    name: w.spec.name,
    runtime: w.spec.runtime,
    tier: w.effective.tier,
    instanceType: w.effective.instanceType,
    volumeGb: w.effective.volumeGb,
    ami: w.effective.ami,
    image: w.effective.image ?? null,
    power: w.spec.power,
  };
  const stopAfterCreate: Step[] = w.spec.power === 'stopped' ? [{ resource: 'instance', op: 'stop' }] : [];

  if (!instance && groups.length === 0) {
    const from = (ctx.homes.live.get(w.spec.id) ?? []).filter((t) => t.orgId !== target.orgId);
    const reason =
      from.length > 0
        ? `moved from ${from.map(describeOwner).join(', ')}: a new instance and security group are made here, and the old ones are deleted there (a workspace's VM is not carried across tenants)`
        : 'declared, nothing live';
    return [
      action(
        'create',
        target,
        [{ resource: 'securityGroup', op: 'create' }, { resource: 'instance', op: 'create' }, ...stopAfterCreate],
        null,
        createAttributes,
        reason,
        declared,
      ),
    ];
  }
  if (!instance) {
    return [
      action(
        'repair',
        target,
        [{ resource: 'instance', op: 'create' }, ...stopAfterCreate],
        { instance: 'absent' },
        { instance: 'present' },
        'partly provisioned: missing instance',
        declared,
      ),
    ];
  }

  const actions: Action[] = [];
  // An instance in another tenant's or workspace's group (what a move under the old group names left) is moved into its own.
  const foreign = (instance.securityGroupIds ?? []).filter((g) => {
    if (groups.some((own) => own.groupId === g)) return false;
    const owner = ctx.homes.groupOwners.get(g);
    return owner !== undefined && targetKey(owner) !== targetKey(target);
  });
  if (groups.length === 0 || foreign.length > 0) {
    const steps: Step[] = groups.length === 0 ? [{ resource: 'securityGroup', op: 'create' }] : [];
    const before: Attributes = groups.length === 0 ? { securityGroup: 'absent' } : {};
    const after: Attributes = groups.length === 0 ? { securityGroup: 'present' } : {};
    const why = groups.length === 0 ? ['missing security group'] : [];
    if (foreign.length > 0) {
      steps.push({ resource: 'instance', op: 'modify', id: instance.instanceId });
      before.instanceGroups = foreign.map((g) => `${g} (${describeTarget(ctx.homes.groupOwners.get(g)!)})`).join(', ');
      after.instanceGroups = 'its own';
      why.push(`its instance sits in ${before.instanceGroups}; it is moved into its own group`);
    }
    actions.push(action('repair', target, steps, before, after, `partly provisioned: ${why.join('; ')}`, declared));
  }
  const replaceBecause: string[] = [];
  const liveRuntime = instance.tags?.[Tag.runtime];
  if (liveRuntime !== undefined && liveRuntime !== w.spec.runtime) replaceBecause.push(`runtime ${liveRuntime} → ${w.spec.runtime}`);
  const liveImage = instance.tags?.[Tag.image]?.trim();
  const wantImage = w.effective.image?.trim() || undefined;
  if (wantImage === undefined && liveImage) replaceBecause.push(`leaving the containerised path (image ${liveImage})`);
  const intent: InstanceIntent = {
    instanceType: w.effective.instanceType,
    volumeGb: w.effective.volumeGb,
    ami: w.effective.ami,
    power: w.spec.power,
    image: wantImage,
    replaceBecause,
    createAttributes,
    declared,
  };
  const changes = planInstanceChanges(ctx, target, instance, intent);
  actions.push(...changes);

  const replaced = changes.some((c) => c.replacement);
  const steps: Step[] = [];
  const before: Attributes = {};
  const after: Attributes = {};
  const tagged = [
    ...(replaced ? [] : [{ id: instance.instanceId, tags: instance.tags, isInstance: true }]),
    ...groups.map((g) => ({ id: g.groupId, tags: g.tags, isInstance: false })),
  ];
  const protect = tenant.spec.deletionProtection;
  for (const r of tagged) {
    const liveSlug = r.tags?.[Tag.orgSlug];
    const liveTier = r.isInstance ? r.tags?.[Tag.tier] : w.effective.tier;
    // The tenant's protection is stamped on its workspaces' resources; an absent tag reads as false.
    const liveProtected = isProtectedTag(r.tags);
    if (liveSlug !== tenant.spec.slug && !('slug' in before)) {
      before.slug = liveSlug ?? null;
      after.slug = tenant.spec.slug;
    }
    if (liveTier !== w.effective.tier) {
      before.tier = liveTier ?? null;
      after.tier = w.effective.tier;
    }
    if (liveProtected !== protect && !('deletionProtection' in before)) {
      before.deletionProtection = liveProtected;
      after.deletionProtection = protect;
    }
    if (liveSlug !== tenant.spec.slug || liveTier !== w.effective.tier || liveProtected !== protect) steps.push({ resource: 'tags', op: 'modify', id: r.id });
  }
  if (steps.length > 0) {
    const what = [
      ...('slug' in before ? [`${Tag.orgSlug} tag`] : []),
      ...('tier' in before ? [`${Tag.tier} tag`] : []),
      ...('deletionProtection' in before ? [`${Tag.deletionProtection} tag`] : []),
    ];
    actions.push(action('update', target, steps, before, after, `${what.join(', ')} differ from the declaration`, declared));
  }
  return actions;
}

export function planWorkspaceDelete(ctx: PlanContext, slug: string, orgId: string, workspaceId: string, live: LiveWorkspace): Action | undefined {
  const target: ActionTarget & { workspaceId: string } = { kind: 'workspace', orgId, slug, workspaceId };
  const instances = (live.instances ?? []).filter(isNotTerminated).sort(byAge);
  const groups = [...(live.securityGroups ?? [])].sort((a, b) => compareText(a.groupId, b.groupId));
  const steps: Step[] = [
    ...instances.map((i): Step => ({ resource: 'instance', op: 'delete', id: i.instanceId })),
    ...groups.map((g): Step => ({ resource: 'securityGroup', op: 'delete', id: g.groupId })),
  ];
  if (steps.length === 0) return undefined;
  const to = ctx.homes.declared.get(workspaceId);
  const reason =
    to && to.orgId !== orgId
      ? `moved to ${describeOwner(to)}: its instance and security group here are deleted, and new ones are made there (a workspace's VM is not carried across tenants)`
      : 'workspace is no longer declared in the fleet repository';
  // Deletion protection (its own tags and its tenant's) is judged in guards.ts.
  return action('delete', target, steps, { instances: instances.length, securityGroups: groups.length }, null, reason, workspaceDeleteIntent(target, steps));
}

function describeOwner(t: ActionTarget): string {
  return `tenant ${t.slug} (org ${t.orgId})`;
}
