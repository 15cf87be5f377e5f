/**
 * Workspace create and delete. A workspace is one agent VM in its own security group (only the
 * EIC tcp/22 rule), tagged with its tenant's OrgID so a tenant delete can cascade to it.
 */
import { DescribeInstancesCommand, DescribeSecurityGroupsCommand, ModifyInstanceAttributeCommand } from '@aws-sdk/client-ec2';
import { MANAGED_BY, Tag } from '../contract.js';
import { tagsToRecord } from '../live/ec2.js';
import type { WorkspaceIntent } from '../plan/intent.js';
import { awsCall } from './cloud.js';
import type { ActContext } from './context.js';
import { ensureInstance, findInstances, instanceStates, NOT_TERMINATED_STATES, drivePower, terminateInstances, waitForState, type InstanceIdentity } from './instance.js';
import { refuseIfProtected } from './protection.js';
import { deleteGroup, ensureGroup, findGroupByName, findOwnedGroups, groupName, workspacePermissions } from './security-group.js';
import { tenantBundleName } from './tenant.js';
import { workspaceUserData } from './user-data.js';

export interface WorkspaceIdentity {
  orgId: string;
  slug: string;
  workspaceId: string;
}

/** What a workspace is built from: the plan's intent (src/plan/intent.ts). */
export type { WorkspaceIntent } from '../plan/intent.js';

export interface WorkspaceOutcome {
  securityGroupId: string;
  instanceId: string;
  created: Array<'securityGroup' | 'instance'>;
}

export interface CreateWorkspaceOptions {
  /** The plan's repair found the instance in another tenant's or workspace's group: move it into its own. */
  rehome?: boolean;
}

export async function createWorkspace(ctx: ActContext, intent: WorkspaceIntent, opts: CreateWorkspaceOptions = {}): Promise<WorkspaceOutcome> {
  const created: WorkspaceOutcome['created'] = [];
  const owner = { role: 'workspace' as const, orgId: intent.orgId, slug: intent.slug, workspaceId: intent.workspaceId };
  const protection = intent.deletionProtection ?? false;
  const group = await ensureGroup(ctx, { ...owner, deletionProtection: protection }, workspacePermissions(ctx, owner));
  if (group.created) created.push('securityGroup');

  const tags: Record<string, string> = { [Tag.runtime]: intent.runtime, [Tag.tier]: intent.tier, [Tag.deletionProtection]: String(protection) };
  if (intent.image) tags[Tag.image] = intent.image;
  const instance = await ensureInstance(ctx, {
    ...owner,
    instanceType: intent.instanceType,
    volumeGb: intent.volumeGb,
    ami: intent.ami,
    securityGroupId: group.groupId,
    name: `tenantform-${ctx.wiring.environment}-${intent.slug}-${intent.name}`,
    userData: workspaceUserData({
      region: ctx.wiring.region,
      orgId: intent.orgId,
      workspaceId: intent.workspaceId,
      runtime: intent.runtime,
      image: intent.image,
      tenantBundleName: tenantBundleName(ctx, intent.orgId),
      controlPlaneUrl: ctx.wiring.controlPlaneUrl,
    }),
    tags,
  });
  if (instance.created) created.push('instance');
  if (opts.rehome && !instance.created && !group.shared) await moveIntoOwnGroup(ctx, intent, instance.instanceId, group.groupId);
  if (intent.power === 'stopped' && instance.state !== 'stopped') {
    await drivePower(ctx, instance.instanceId, 'stopped', 'stop workspace instance');
    ctx.audit({ kind: 'instance', resourceId: instance.instanceId, orgId: intent.orgId, workspaceId: intent.workspaceId, state: 'stopped' });
  }
  return { securityGroupId: group.groupId, instanceId: instance.instanceId, created };
}

export interface DeleteWorkspaceOptions {
  /**
   * The instances the plan's steps name: only these are terminated, so the maxTerminations guard
   * (counted from the steps) bounds what a delete can terminate. Undefined: every live one.
   */
  instanceIds?: readonly string[];
  /** The security groups the plan's steps name: only these are deleted. Undefined: every one the workspace owns. */
  groupIds?: readonly string[];
}

/**
 * Re-read the live DeletionProtection tags (the workspace's and its tenant's) and refuse a
 * protected one; terminate the workspace's instance(s), wait under the deadline, then delete its
 * security group.
 */
export async function deleteWorkspace(ctx: ActContext, ws: WorkspaceIdentity, opts: DeleteWorkspaceOptions = {}): Promise<void> {
  await refuseIfProtected(ctx, ws, 'delete workspace');
  const identity = { role: 'workspace' as const, ...ws };
  const ids = opts.instanceIds === undefined ? await liveInstanceIds(ctx, identity) : await standingOf(ctx, opts.instanceIds);
  await terminateInstances(ctx, ids);
  await waitForState(ctx, ids, 'terminated', ctx.deadlines.terminationMs, `terminate workspace ${ws.workspaceId}`);
  for (const id of ids) ctx.audit({ kind: 'instance', resourceId: id, orgId: ws.orgId, workspaceId: ws.workspaceId, state: 'deleted' });

  if (opts.groupIds !== undefined) {
    for (const groupId of opts.groupIds) await deleteGroup(ctx, groupId, { orgId: ws.orgId, workspaceId: ws.workspaceId });
    return;
  }
  const groups = new Map((await findOwnedGroups(ctx, ws.orgId, ws.workspaceId)).map((g) => [g.GroupId!, g]));
  if (ctx.wiring.vpcId) {
    const byName = await findGroupByName(ctx, groupName(ctx, identity));
    if (byName?.GroupId) groups.set(byName.GroupId, byName);
  }
  for (const groupId of groups.keys()) await deleteGroup(ctx, groupId, { orgId: ws.orgId, workspaceId: ws.workspaceId });
}

async function liveInstanceIds(ctx: ActContext, identity: InstanceIdentity): Promise<string[]> {
  return (await findInstances(ctx, identity, NOT_TERMINATED_STATES)).map((i) => i.InstanceId!).filter(Boolean);
}

/** The planned ids that still stand: one AWS has forgotten, or already terminated, is gone. */
async function standingOf(ctx: ActContext, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const live = await instanceStates(ctx, [...ids]);
  return ids.filter((id) => live.has(id) && live.get(id)!.State?.Name !== 'terminated');
}

/**
 * Puts a workspace instance into its own group and out of every group tenantform made for another
 * tenant or workspace (a workspace moved under the old, org-less group names kept its old owner's
 * group, which that owner then could never delete). Groups that are not tenantform's stay.
 */
async function moveIntoOwnGroup(ctx: ActContext, ws: WorkspaceIdentity, instanceId: string, groupId: string): Promise<void> {
  const out = await awsCall(ctx, 'ec2', 'DescribeInstances', `instance ${instanceId}`, () =>
    ctx.aws.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] })),
  );
  const current = (out.Reservations?.[0]?.Instances?.[0]?.SecurityGroups ?? []).flatMap((g) => (g.GroupId ? [g.GroupId] : []));
  const others = current.filter((g) => g !== groupId);
  let keep: string[] = [];
  if (others.length > 0) {
    const described = await awsCall(ctx, 'ec2', 'DescribeSecurityGroups', `security groups of instance ${instanceId}`, () =>
      ctx.aws.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: others })),
    );
    keep = (described.SecurityGroups ?? []).flatMap((g) => {
      const tags = tagsToRecord(g.Tags);
      const ours = tags[Tag.managedBy] === MANAGED_BY && tags[Tag.env] === ctx.wiring.environment;
      return g.GroupId && !ours ? [g.GroupId] : [];
    });
  }
  const want = [groupId, ...keep];
  if (current.length === want.length && want.every((g) => current.includes(g))) return;
  await awsCall(ctx, 'ec2', 'ModifyInstanceAttribute', `instance ${instanceId}`, () =>
    ctx.aws.ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: instanceId, Groups: want })),
  );
  ctx.audit({
    kind: 'instance',
    resourceId: instanceId,
    orgId: ws.orgId,
    workspaceId: ws.workspaceId,
    state: 'updated',
    details: { securityGroups: want.join(','), left: current.filter((g) => !want.includes(g)).join(',') },
  });
}
