/**
 * Per-tenant and per-workspace security groups, found by their deterministic name in the VPC.
 * Ensure makes the ingress rules exactly the contract's: the platform port from the VPC CIDR
 * (tenants only) and tcp/22 only from the EIC endpoint's group, never 0.0.0.0/0. Rules someone
 * added by hand are revoked, because an open port is the drift that matters most here.
 */
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DeleteSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcsCommand,
  RevokeSecurityGroupIngressCommand,
  type Filter,
  type IpPermission,
  type SecurityGroup,
} from '@aws-sdk/client-ec2';
import { MANAGED_BY, Tag, baseTags, legacyWorkspaceSecurityGroupName, tenantSecurityGroupName, workspaceSecurityGroupName, type Role } from '../contract.js';
import { CloudError, ConfigError, DeadlineExceeded } from '../errors.js';
import { tagsToRecord } from '../live/ec2.js';
import { expectedPermissions, permissionKey, sshFromEicPermissions, type IngressPermission } from '../expected/security-group.js';
import { tagsToStamp } from './adopt-tags.js';
import { awsCall, hasCode } from './cloud.js';
import type { ActContext } from './context.js';
import { findGroupUsers } from './instance.js';
import { pollBackoff } from './poll.js';

export type { IngressPermission } from '../expected/security-group.js';

export interface GroupOwner {
  role: Role;
  orgId: string;
  slug: string;
  workspaceId?: string;
  /**
   * Tenant groups carry the tenant's DeletionProtection from birth, like its instance; a protected
   * tenant's group adopted from an older run gets the tag when it lacks it (never loses it here).
   */
  deletionProtection?: boolean;
}

export interface EnsuredGroup {
  groupId: string;
  created: boolean;
  /** True when the legacy shared group is used (no VPC id): never deleted by tenantform. */
  shared: boolean;
}

/**
 * Per EC2 client and VPC, not per context: the executor gives every action a context of its own,
 * and a per-context cache made one DescribeVpcs per tenant.
 */
const vpcCidrs = new WeakMap<object, Map<string, Promise<string>>>();

export function vpcCidr(ctx: ActContext): Promise<string> {
  const vpcId = ctx.wiring.vpcId!;
  let perClient = vpcCidrs.get(ctx.aws.ec2);
  if (!perClient) vpcCidrs.set(ctx.aws.ec2, (perClient = new Map()));
  let cached = perClient.get(vpcId);
  if (!cached) {
    cached = awsCall(ctx, 'ec2', 'DescribeVpcs', `VPC ${vpcId}`, () => ctx.aws.ec2.send(new DescribeVpcsCommand({ VpcIds: [vpcId] }))).then((out) => {
      const cidr = out.Vpcs?.[0]?.CidrBlock;
      if (!cidr) throw new CloudError('the VPC has no IPv4 CIDR block', { operation: 'read VPC CIDR', resource: `VPC ${vpcId}` });
      return cidr;
    });
    const forget = perClient;
    cached.catch(() => forget.delete(vpcId));
    perClient.set(vpcId, cached);
  }
  return cached;
}

/** The wiring preflight has read the VPC already: its CIDR saves the first group a DescribeVpcs. */
export function rememberVpcCidr(ec2: object, vpcId: string, cidr: string): void {
  let perClient = vpcCidrs.get(ec2);
  if (!perClient) vpcCidrs.set(ec2, (perClient = new Map()));
  if (!perClient.has(vpcId)) perClient.set(vpcId, Promise.resolve(cidr));
}

function sshFromEic(ctx: ActContext, owner: GroupOwner): IngressPermission[] {
  const eic = ctx.wiring.eicSecurityGroupId;
  if (!eic) {
    ctx.warn(`EIC_ENDPOINT_SG_ID is not set: ${owner.role} ${owner.workspaceId ?? owner.orgId} gets no tcp/22 rule, so its browser terminal will not connect`);
  }
  return sshFromEicPermissions(eic);
}

export async function tenantPermissions(ctx: ActContext, owner: GroupOwner): Promise<IngressPermission[]> {
  const cidr = await vpcCidr(ctx);
  sshFromEic(ctx, owner);
  return expectedPermissions({ role: 'tenant', platformPort: ctx.fleet.tenant.platformPort, vpcCidr: cidr, eicGroupId: ctx.wiring.eicSecurityGroupId });
}

export function workspacePermissions(ctx: ActContext, owner: GroupOwner): IngressPermission[] {
  return sshFromEic(ctx, owner);
}

export function groupName(ctx: ActContext, owner: GroupOwner): string {
  const env = ctx.wiring.environment;
  return owner.role === 'tenant' ? tenantSecurityGroupName(env, owner.orgId) : workspaceSecurityGroupName(env, owner.orgId, owner.workspaceId!);
}

/**
 * A workspace group named the way older fleets named it (by workspace id alone), adopted only when
 * its tags say it is this org's and this workspace's: under that name, the group of a workspace
 * that moved away from another tenant is that tenant's, still used by its old instance.
 */
async function findLegacyWorkspaceGroup(ctx: ActContext, owner: GroupOwner): Promise<SecurityGroup | undefined> {
  if (owner.role !== 'workspace' || !owner.workspaceId) return undefined;
  const group = await findGroupByName(ctx, legacyWorkspaceSecurityGroupName(ctx.wiring.environment, owner.workspaceId));
  const tags = tagsToRecord(group?.Tags);
  return tags[Tag.orgId] === owner.orgId && tags[Tag.workspaceId] === owner.workspaceId ? group : undefined;
}

async function describeGroups(ctx: ActContext, filters: Filter[], resource: string): Promise<SecurityGroup[]> {
  const groups: SecurityGroup[] = [];
  let token: string | undefined;
  do {
    const out = await awsCall(ctx, 'ec2', 'DescribeSecurityGroups', resource, () =>
      ctx.aws.ec2.send(new DescribeSecurityGroupsCommand({ Filters: filters, NextToken: token })),
    );
    groups.push(...(out.SecurityGroups ?? []));
    token = out.NextToken;
  } while (token);
  return groups;
}

export async function findGroupByName(ctx: ActContext, name: string): Promise<SecurityGroup | undefined> {
  const filters: Filter[] = [{ Name: 'group-name', Values: [name] }];
  if (ctx.wiring.vpcId) filters.push({ Name: 'vpc-id', Values: [ctx.wiring.vpcId] });
  const groups = await describeGroups(ctx, filters, `security group ${name}`);
  return groups.find((g) => g.GroupName === name);
}

/** Every group of an org (tenant and workspaces), or of one workspace, in this environment. */
export async function findOwnedGroups(ctx: ActContext, orgId: string, workspaceId?: string): Promise<SecurityGroup[]> {
  const filters: Filter[] = [
    { Name: `tag:${Tag.managedBy}`, Values: [MANAGED_BY] },
    { Name: `tag:${Tag.env}`, Values: [ctx.wiring.environment] },
    { Name: `tag:${Tag.orgId}`, Values: [orgId] },
  ];
  if (workspaceId) filters.push({ Name: `tag:${Tag.workspaceId}`, Values: [workspaceId] });
  return describeGroups(ctx, filters, workspaceId ? `security groups of workspace ${workspaceId}` : `security groups of org ${orgId}`);
}

/** Flatten AWS IpPermissions into one key per (protocol, ports, source). */
function liveKeys(perms: IpPermission[]): Map<string, IpPermission> {
  const keys = new Map<string, IpPermission>();
  for (const p of perms) {
    const head = p.IpProtocol === 'tcp' && p.FromPort === p.ToPort ? `tcp:${p.FromPort}` : `${p.IpProtocol}:${p.FromPort}-${p.ToPort}`;
    const base = { IpProtocol: p.IpProtocol, FromPort: p.FromPort, ToPort: p.ToPort };
    for (const r of p.IpRanges ?? []) keys.set(`${head}:cidr:${r.CidrIp}`, { ...base, IpRanges: [{ CidrIp: r.CidrIp }] });
    for (const r of p.Ipv6Ranges ?? []) keys.set(`${head}:cidr6:${r.CidrIpv6}`, { ...base, Ipv6Ranges: [{ CidrIpv6: r.CidrIpv6 }] });
    for (const g of p.UserIdGroupPairs ?? []) keys.set(`${head}:sg:${g.GroupId}`, { ...base, UserIdGroupPairs: [{ GroupId: g.GroupId }] });
    for (const l of p.PrefixListIds ?? []) keys.set(`${head}:pl:${l.PrefixListId}`, { ...base, PrefixListIds: [{ PrefixListId: l.PrefixListId }] });
  }
  return keys;
}

function toIpPermission(p: IngressPermission): IpPermission {
  return {
    IpProtocol: 'tcp',
    FromPort: p.port,
    ToPort: p.port,
    ...(p.cidr ? { IpRanges: [{ CidrIp: p.cidr, Description: p.description }] } : { UserIdGroupPairs: [{ GroupId: p.sourceGroupId, Description: p.description }] }),
  };
}

/** The contract's tags for a group: what it is born with, and what adoption stamps. */
function groupTags(ctx: ActContext, owner: GroupOwner, name: string): Record<string, string> {
  const tags: Record<string, string> = { ...baseTags(ctx.wiring.environment, owner.role, owner.orgId, owner.slug), [Tag.name]: name };
  if (owner.workspaceId) tags[Tag.workspaceId] = owner.workspaceId;
  if (owner.deletionProtection !== undefined) tags[Tag.deletionProtection] = String(owner.deletionProtection);
  if (ctx.gitCommit) tags[Tag.gitCommit] = ctx.gitCommit;
  return tags;
}

export async function ensureGroup(ctx: ActContext, owner: GroupOwner, permissions: IngressPermission[]): Promise<EnsuredGroup> {
  const { vpcId, legacySecurityGroupId } = ctx.wiring;
  if (!vpcId) {
    if (!legacySecurityGroupId) {
      throw new ConfigError('set EC2_VPC_ID (per-tenant security groups) or the legacy EC2_SECURITY_GROUP', { operation: 'choose security group' });
    }
    ctx.warn(`EC2_VPC_ID is not set: using the legacy shared security group ${legacySecurityGroupId}`);
    return { groupId: legacySecurityGroupId, created: false, shared: true };
  }
  const name = groupName(ctx, owner);
  const auditBase = { kind: 'securityGroup' as const, orgId: owner.orgId, ...(owner.workspaceId ? { workspaceId: owner.workspaceId } : {}) };
  let group = (await findGroupByName(ctx, name)) ?? (await findLegacyWorkspaceGroup(ctx, owner));
  let created = false;
  const tags = groupTags(ctx, owner, name);
  if (!group) {
    try {
      const out = await awsCall(ctx, 'ec2', 'CreateSecurityGroup', `security group ${name}`, () =>
        ctx.aws.ec2.send(
          new CreateSecurityGroupCommand({
            GroupName: name,
            Description: `tenantform ${owner.role} ${owner.workspaceId ?? owner.orgId}`,
            VpcId: vpcId,
            TagSpecifications: [{ ResourceType: 'security-group', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }],
          }),
        ),
      );
      group = { GroupId: out.GroupId, GroupName: name, IpPermissions: [] };
      created = true;
      ctx.audit({ ...auditBase, resourceId: out.GroupId!, state: 'created', details: { name } });
    } catch (e) {
      if (!hasCode(e, 'InvalidGroup.Duplicate')) throw e;
      group = await findGroupByName(ctx, name);
      if (!group) throw e;
    }
  }
  const groupId = group.GroupId!;
  const changed = await reconcileRules(ctx, groupId, group.IpPermissions ?? [], permissions);
  if (!created) {
    ctx.audit({ ...auditBase, resourceId: groupId, state: 'adopted', details: { name, ...(changed ? { rulesChanged: true } : {}) } });
    // A group found by name only (made by hand, or by a run that crashed before tagging) is
    // invisible to plan, which observes by tags: stamp the contract so the next plan is clean.
    const stamp = tagsToStamp(tags, tagsToRecord(group.Tags));
    if (Object.keys(stamp).length > 0) {
      await awsCall(ctx, 'ec2', 'CreateTags', `security group ${groupId}`, () =>
        ctx.aws.ec2.send(new CreateTagsCommand({ Resources: [groupId], Tags: Object.entries(stamp).map(([Key, Value]) => ({ Key, Value })) })),
      );
      ctx.audit({ ...auditBase, resourceId: groupId, state: 'updated', details: { tags: Object.keys(stamp).sort().join(',') } });
    }
  }
  return { groupId, created, shared: false };
}

/**
 * A tenant `update` of its group's rules (a platform port change): the group the plan named, by
 * id, gets exactly the contract's rules — the old port's rule revoked, the new one authorised.
 */
export async function reconcileGroupRules(ctx: ActContext, groupId: string, owner: GroupOwner): Promise<void> {
  const out = await awsCall(ctx, 'ec2', 'DescribeSecurityGroups', `security group ${groupId}`, () =>
    ctx.aws.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] })),
  );
  const group = out.SecurityGroups?.find((g) => g.GroupId === groupId);
  if (!group) throw new CloudError('the security group no longer exists', { operation: 'update security group rules', resource: `security group ${groupId}` });
  const want = owner.role === 'tenant' ? await tenantPermissions(ctx, owner) : workspacePermissions(ctx, owner);
  if (await reconcileRules(ctx, groupId, group.IpPermissions ?? [], want)) {
    ctx.audit({
      kind: 'securityGroup',
      resourceId: groupId,
      orgId: owner.orgId,
      ...(owner.workspaceId ? { workspaceId: owner.workspaceId } : {}),
      state: 'updated',
      details: { rules: want.map(permissionKey).join(',') },
    });
  }
}

async function reconcileRules(ctx: ActContext, groupId: string, live: IpPermission[], want: IngressPermission[]): Promise<boolean> {
  const have = liveKeys(live);
  const wantKeys = new Map(want.map((p) => [permissionKey(p), p]));
  const missing = [...wantKeys].filter(([k]) => !have.has(k)).map(([, p]) => toIpPermission(p));
  const extra = [...have].filter(([k]) => !wantKeys.has(k)).map(([, p]) => p);
  if (extra.length > 0) {
    await awsCall(ctx, 'ec2', 'RevokeSecurityGroupIngress', `security group ${groupId}`, () =>
      ctx.aws.ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: extra })),
    );
  }
  if (missing.length > 0) {
    try {
      await awsCall(ctx, 'ec2', 'AuthorizeSecurityGroupIngress', `security group ${groupId}`, () =>
        ctx.aws.ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: missing })),
      );
    } catch (e) {
      // A crashed run may have authorised them between our describe and now.
      if (!hasCode(e, 'InvalidPermission.Duplicate')) throw e;
    }
  }
  return missing.length > 0 || extra.length > 0;
}

/**
 * Delete a group, retrying DependencyViolation (an instance or ENI still holding it, which
 * lingers after termination) until the deadline. A group already gone counts as deleted. An
 * instance that stands (not terminated nor shutting down) and still uses the group will not let
 * go by waiting: that fails at once, naming it, rather than holding the run for the deadline.
 */
export async function deleteGroup(ctx: ActContext, groupId: string, owner: { orgId: string; workspaceId?: string }): Promise<void> {
  const started = ctx.clock.now();
  const pause = pollBackoff(ctx.clock, ctx.deadlines.pollMs);
  const auditBase = { kind: 'securityGroup' as const, resourceId: groupId, orgId: owner.orgId, ...(owner.workspaceId ? { workspaceId: owner.workspaceId } : {}) };
  for (let attempt = 1; ; attempt++) {
    try {
      await awsCall(ctx, 'ec2', 'DeleteSecurityGroup', `security group ${groupId}`, () => ctx.aws.ec2.send(new DeleteSecurityGroupCommand({ GroupId: groupId })));
      ctx.audit({ ...auditBase, state: 'deleted', details: { attempts: attempt } });
      return;
    } catch (e) {
      if (hasCode(e, 'InvalidGroup.NotFound')) {
        ctx.audit({ ...auditBase, state: 'deleted', details: { attempts: attempt, alreadyGone: true } });
        return;
      }
      if (!hasCode(e, 'DependencyViolation')) throw e;
      await failIfStillUsed(ctx, groupId, e);
      if (ctx.clock.now() - started >= ctx.deadlines.securityGroupMs) {
        throw new DeadlineExceeded(`still in use after ${attempt} attempts over ${Math.round((ctx.clock.now() - started) / 1000)} s (DependencyViolation)`, {
          operation: 'delete security group',
          resource: `security group ${groupId}`,
          cause: e,
        });
      }
      await pause();
    }
  }
}

async function failIfStillUsed(ctx: ActContext, groupId: string, cause: unknown): Promise<void> {
  const users = await findGroupUsers(ctx, groupId);
  if (users.length === 0) return;
  const named = users.map((i) => `${i.InstanceId} (${i.State?.Name ?? 'unknown state'})`).join(', ');
  throw new CloudError(
    `still used by instance${users.length === 1 ? '' : 's'} ${named}, which this run does not terminate; detach ${users.length === 1 ? 'it' : 'them'} from the group (or terminate ${users.length === 1 ? 'it' : 'them'}) and apply again`,
    { operation: 'delete security group', resource: `security group ${groupId}`, cause },
  );
}
