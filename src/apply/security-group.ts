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
import { MANAGED_BY, Tag, baseTags, tenantSecurityGroupName, workspaceSecurityGroupName, type Role } from '../contract.js';
import { CloudError, ConfigError, DeadlineExceeded } from '../errors.js';
import { tagsToRecord } from '../live/ec2.js';
import { isProtectedTag } from '../plan/normalise.js';
import { awsCall, hasCode } from './cloud.js';
import type { ActContext } from './context.js';
import { pollBackoff } from './poll.js';

export interface IngressPermission {
  port: number;
  /** Exactly one of cidr / sourceGroupId. */
  cidr?: string;
  sourceGroupId?: string;
  description: string;
}

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

function sshFromEic(ctx: ActContext, owner: GroupOwner): IngressPermission[] {
  const eic = ctx.wiring.eicSecurityGroupId;
  if (!eic) {
    ctx.warn(
      `EIC_ENDPOINT_SG_ID is not set: ${owner.role} ${owner.workspaceId ?? owner.orgId} gets no tcp/22 rule, so its browser terminal will not connect`,
    );
    return [];
  }
  return [{ port: 22, sourceGroupId: eic, description: 'SSH from the EC2 Instance Connect endpoint' }];
}

export async function tenantPermissions(ctx: ActContext, owner: GroupOwner): Promise<IngressPermission[]> {
  const port = ctx.fleet.tenant.platformPort;
  return [{ port, cidr: await vpcCidr(ctx), description: 'platform port from inside the VPC' }, ...sshFromEic(ctx, owner)];
}

export function workspacePermissions(ctx: ActContext, owner: GroupOwner): IngressPermission[] {
  return sshFromEic(ctx, owner);
}

export function groupName(ctx: ActContext, owner: GroupOwner): string {
  const env = ctx.wiring.environment;
  return owner.role === 'tenant' ? tenantSecurityGroupName(env, owner.orgId) : workspaceSecurityGroupName(env, owner.workspaceId!);
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

function permissionKey(p: IngressPermission): string {
  return p.cidr ? `tcp:${p.port}:cidr:${p.cidr}` : `tcp:${p.port}:sg:${p.sourceGroupId}`;
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
    ...(p.cidr
      ? { IpRanges: [{ CidrIp: p.cidr, Description: p.description }] }
      : { UserIdGroupPairs: [{ GroupId: p.sourceGroupId, Description: p.description }] }),
  };
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
  let group = await findGroupByName(ctx, name);
  let created = false;
  if (!group) {
    const tags: Record<string, string> = { ...baseTags(ctx.wiring.environment, owner.role, owner.orgId, owner.slug), [Tag.name]: name };
    if (owner.workspaceId) tags[Tag.workspaceId] = owner.workspaceId;
    if (owner.deletionProtection !== undefined) tags[Tag.deletionProtection] = String(owner.deletionProtection);
    if (ctx.gitCommit) tags[Tag.gitCommit] = ctx.gitCommit;
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
    if (owner.deletionProtection && !isProtectedTag(tagsToRecord(group.Tags))) {
      await awsCall(ctx, 'ec2', 'CreateTags', `security group ${groupId}`, () =>
        ctx.aws.ec2.send(new CreateTagsCommand({ Resources: [groupId], Tags: [{ Key: Tag.deletionProtection, Value: 'true' }] })),
      );
      ctx.audit({ ...auditBase, resourceId: groupId, state: 'updated', details: { tags: Tag.deletionProtection } });
    }
  }
  return { groupId, created, shared: false };
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
 * lingers after termination) until the deadline. A group already gone counts as deleted.
 */
export async function deleteGroup(ctx: ActContext, groupId: string, owner: { orgId: string; workspaceId?: string }): Promise<void> {
  const started = ctx.clock.now();
  const pause = pollBackoff(ctx.clock, ctx.deadlines.pollMs);
  const auditBase = { kind: 'securityGroup' as const, resourceId: groupId, orgId: owner.orgId, ...(owner.workspaceId ? { workspaceId: owner.workspaceId } : {}) };
  for (let attempt = 1; ; attempt++) {
    try {
      await awsCall(ctx, 'ec2', 'DeleteSecurityGroup', `security group ${groupId}`, () =>
        ctx.aws.ec2.send(new DeleteSecurityGroupCommand({ GroupId: groupId })),
      );
      ctx.audit({ ...auditBase, state: 'deleted', details: { attempts: attempt } });
      return;
    } catch (e) {
      if (hasCode(e, 'InvalidGroup.NotFound')) {
        ctx.audit({ ...auditBase, state: 'deleted', details: { attempts: attempt, alreadyGone: true } });
        return;
      }
      if (!hasCode(e, 'DependencyViolation')) throw e;
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
