/**
 * Security group ingress rules as the contract wants them: the platform port from the VPC CIDR
 * (tenants only) and tcp/22 only from the EIC endpoint's group, never 0.0.0.0/0, and the
 * reconciliation that makes a group's live rules exactly those (hand-added rules are revoked).
 */
import { variableIn } from '../accounts.js';
import { AuthorizeSecurityGroupIngressCommand, DescribeVpcsCommand, RevokeSecurityGroupIngressCommand, type IpPermission } from '@aws-sdk/client-ec2';
import type { Role } from '../contract.js';
import { CloudError } from '../errors.js';
import { awsCall, hasCode } from './cloud.js';
import type { ActContext } from './context.js';
import { expectedPermissions, permissionKey, sshFromEicPermissions, type IngressPermission } from '../expected/security-group.js';

export type { IngressPermission } from '../expected/security-group.js';
export { permissionKey } from '../expected/security-group.js';

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
    ctx.warn(
      `${variableIn(ctx.wiring.account, 'EIC_ENDPOINT_SG_ID')} is not set: ${owner.role} ${owner.workspaceId ?? owner.orgId} gets no tcp/22 rule, so its browser terminal will not connect`,
    );
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

/** Makes a group's live ingress exactly `want`: revokes what is extra, authorises what is missing; true when it changed anything. */
export async function reconcileRules(ctx: ActContext, groupId: string, live: IpPermission[], want: IngressPermission[]): Promise<boolean> {
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
