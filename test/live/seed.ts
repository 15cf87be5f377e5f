/**
 * Seeds AWS (moto) and Cloudflare (the double) by hand, with plain SDK calls, into the states the
 * plan tests and the benchmark need: a tenant fully provisioned the way the provisioning contract
 * describes, or any part of it. Independent of src/apply on purpose, so observe and plan are tested
 * against what the contract says, not against what apply happens to do.
 */
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeVpcsCommand,
  RunInstancesCommand,
  StopInstancesCommand,
  type EC2Client,
  type Tag as AwsTag,
} from '@aws-sdk/client-ec2';
import { CreateSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type Cloudflare from 'cloudflare';
import { Tag, baseTags, dnsComment, hostname, secretName, tenantSecurityGroupName, tunnelName, tunnelTarget, workspaceSecurityGroupName } from '../../src/contract.js';

export interface SeedTarget {
  env: string;
  ec2: EC2Client;
  secrets: SecretsManagerClient;
  cloudflare: { client: Cloudflare; accountId: string; zoneId: string };
  vpcId: string;
  subnetId: string;
  appDomain: string;
}

export interface SeedWorkspace {
  id: string;
  runtime: string;
  tier: string;
  instanceType: string;
  volumeGb: number;
  ami: string;
  image?: string;
  power?: 'running' | 'stopped';
}

export interface SeedTenant {
  orgId: string;
  slug: string;
  instanceType: string;
  volumeGb: number;
  ami: string;
  image: string;
  deletionProtection?: boolean;
  power?: 'running' | 'stopped';
  /** The platform port its group opens to the VPC CIDR; default 8080, the fleet default. */
  platformPort?: number;
  workspaces: SeedWorkspace[];
}

export type TenantPart = 'tunnel' | 'dnsRecord' | 'secret' | 'securityGroup' | 'instance';
export const ALL_TENANT_PARTS: readonly TenantPart[] = ['tunnel', 'dnsRecord', 'secret', 'securityGroup', 'instance'];

export interface SeededTenant {
  tunnelId?: string;
  dnsRecordId?: string;
  secretArn?: string;
  securityGroupId?: string;
  instanceId?: string;
  workspaces: Record<string, { securityGroupId?: string; instanceId?: string }>;
}

function awsTags(tags: Record<string, string>): AwsTag[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

const cidrs = new WeakMap<EC2Client, Promise<string>>();
/** One DescribeVpcs per client (the plan benchmark seeds a thousand tenants). */
function vpcCidr(t: SeedTarget): Promise<string> {
  let cidr = cidrs.get(t.ec2);
  if (!cidr) {
    cidr = t.ec2.send(new DescribeVpcsCommand({ VpcIds: [t.vpcId] })).then((o) => o.Vpcs?.[0]?.CidrBlock ?? '10.0.0.0/16');
    cidrs.set(t.ec2, cidr);
  }
  return cidr;
}

export async function seedSecurityGroup(t: SeedTarget, name: string, tags: Record<string, string>): Promise<string> {
  const out = await t.ec2.send(
    new CreateSecurityGroupCommand({
      GroupName: name,
      Description: name,
      VpcId: t.vpcId,
      TagSpecifications: [{ ResourceType: 'security-group', Tags: awsTags(tags) }],
    }),
  );
  return out.GroupId!;
}

export async function seedInstance(
  t: SeedTarget,
  spec: {
    ami: string;
    instanceType: string;
    volumeGb: number;
    securityGroupId: string | undefined;
    tags: Record<string, string>;
    power?: 'running' | 'stopped';
  },
): Promise<string> {
  const out = await t.ec2.send(
    new RunInstancesCommand({
      ImageId: spec.ami,
      InstanceType: spec.instanceType as never,
      MinCount: 1,
      MaxCount: 1,
      SubnetId: t.subnetId,
      SecurityGroupIds: spec.securityGroupId ? [spec.securityGroupId] : undefined,
      BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: spec.volumeGb, VolumeType: 'gp3', DeleteOnTermination: true } }],
      TagSpecifications: [
        { ResourceType: 'instance', Tags: awsTags(spec.tags) },
        { ResourceType: 'volume', Tags: awsTags(spec.tags) },
      ],
    }),
  );
  const instanceId = out.Instances![0]!.InstanceId!;
  if (spec.power === 'stopped') await t.ec2.send(new StopInstancesCommand({ InstanceIds: [instanceId] }));
  return instanceId;
}

export function tenantTags(env: string, tenant: SeedTenant): Record<string, string> {
  return {
    ...baseTags(env, 'tenant', tenant.orgId, tenant.slug),
    [Tag.image]: tenant.image,
    ...(tenant.deletionProtection ? { [Tag.deletionProtection]: 'true' } : {}),
  };
}

export function workspaceTags(env: string, tenant: SeedTenant, ws: SeedWorkspace): Record<string, string> {
  return {
    ...baseTags(env, 'workspace', tenant.orgId, tenant.slug),
    [Tag.workspaceId]: ws.id,
    [Tag.runtime]: ws.runtime,
    [Tag.tier]: ws.tier,
    ...(ws.image ? { [Tag.image]: ws.image } : {}),
  };
}

/** Seeds the given parts of a tenant (all by default) and every workspace unless `workspaces` is false. */
export async function seedTenant(t: SeedTarget, tenant: SeedTenant, opts: { parts?: readonly TenantPart[]; workspaces?: boolean } = {}): Promise<SeededTenant> {
  const parts = new Set(opts.parts ?? ALL_TENANT_PARTS);
  const seeded: SeededTenant = { workspaces: {} };
  const cf = t.cloudflare;
  if (parts.has('tunnel')) {
    const tunnel = await cf.client.zeroTrust.tunnels.cloudflared.create({
      account_id: cf.accountId,
      name: tunnelName(t.env, tenant.slug, tenant.orgId),
      config_src: 'cloudflare',
    });
    seeded.tunnelId = tunnel.id!;
  }
  if (parts.has('dnsRecord')) {
    const record = await cf.client.dns.records.create({
      zone_id: cf.zoneId,
      type: 'CNAME',
      name: hostname(tenant.slug, t.appDomain),
      content: tunnelTarget(seeded.tunnelId ?? '00000000-0000-4000-8000-000000000000'),
      ttl: 1,
      proxied: true,
      comment: dnsComment(t.env, tenant.orgId, tenant.slug),
    });
    seeded.dnsRecordId = record.id;
  }
  const tags = tenantTags(t.env, tenant);
  if (parts.has('secret')) {
    const out = await t.secrets.send(new CreateSecretCommand({ Name: secretName(t.env, tenant.orgId), SecretString: '{"seeded":true}', Tags: awsTags(tags) }));
    seeded.secretArn = out.ARN;
  }
  if (parts.has('securityGroup')) {
    seeded.securityGroupId = await seedSecurityGroup(t, tenantSecurityGroupName(t.env, tenant.orgId), tags);
    // As apply makes it: the platform port from the VPC CIDR (the planner compares it).
    const cidr = await vpcCidr(t);
    const port = tenant.platformPort ?? 8080;
    await t.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: seeded.securityGroupId,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: port, ToPort: port, IpRanges: [{ CidrIp: cidr }] }],
      }),
    );
  }
  if (parts.has('instance')) {
    seeded.instanceId = await seedInstance(t, { ...tenant, securityGroupId: seeded.securityGroupId, tags });
  }
  if (opts.workspaces !== false) {
    for (const ws of tenant.workspaces) seeded.workspaces[ws.id] = await seedWorkspace(t, tenant, ws);
  }
  return seeded;
}

export async function seedWorkspace(
  t: SeedTarget,
  tenant: SeedTenant,
  ws: SeedWorkspace,
  parts: { securityGroup?: boolean; instance?: boolean } = {},
): Promise<{ securityGroupId?: string; instanceId?: string }> {
  const tags = workspaceTags(t.env, tenant, ws);
  const out: { securityGroupId?: string; instanceId?: string } = {};
  if (parts.securityGroup !== false) out.securityGroupId = await seedSecurityGroup(t, workspaceSecurityGroupName(t.env, tenant.orgId, ws.id), tags);
  if (parts.instance !== false) {
    out.instanceId = await seedInstance(t, { ...ws, securityGroupId: out.securityGroupId, tags });
  }
  return out;
}
