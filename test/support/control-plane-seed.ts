/**
 * Seeds a fleet the way the old control plane provisioned it (POST /cp/orgs), from outside with
 * the SDK clients: a tunnel under the control plane's own name, a proxied CNAME
 * `<slug>.<APP_DOMAIN>` → `<tunnel-id>.cfargotunnel.com` with no comment, a bootstrap bundle under
 * the control plane's name, per-org security groups (platform port from the VPC CIDR, tcp/22
 * from the EIC group), and instances tagged with the control plane's contract only — no
 * ManagedBy, no Env, no Name, no Image.
 */
import { randomBytes } from 'node:crypto';
import { AuthorizeSecurityGroupIngressCommand, CreateSecurityGroupCommand, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import Cloudflare from 'cloudflare';
import type { AwsEmulator, AwsTestClients } from './aws.js';
import type { CloudflareDouble } from './cloudflare-double/index.js';

export const CP_BUNDLE_TEMPLATE = 'molecule/{env}/orgs/{orgId}/bootstrap';

export interface CpWorkspace {
  workspaceId: string;
  runtime: string;
  instanceType: string;
  volumeGb: number;
  stopped?: boolean;
}

export interface CpTenant {
  orgId: string;
  slug: string;
  instanceType?: string;
  workspaces?: CpWorkspace[];
  /** Tags the control plane failed to stamp on the tenant instance (a half-failed POST). */
  omitTags?: string[];
}

export interface SeededTenant {
  orgId: string;
  slug: string;
  instanceId: string;
  groupId: string;
  tunnelId: string;
  recordId: string;
  bundleName: string;
  /** The bundle's value exactly as stored (holds the DB password). */
  bundleValue: string;
  dbPassword: string;
  workspaces: Array<CpWorkspace & { instanceId: string; groupId: string }>;
}

const tags = (t: Record<string, string>) => Object.entries(t).map(([Key, Value]) => ({ Key, Value }));

export async function seedControlPlaneTenant(
  world: { aws: AwsEmulator; check: AwsTestClients; cf: CloudflareDouble; env: string; appDomain: string; platformPort?: number },
  t: CpTenant,
): Promise<SeededTenant> {
  const { aws, check, cf } = world;
  const port = world.platformPort ?? 8080;
  const client = new Cloudflare({ apiToken: cf.apiToken, baseURL: cf.baseURL, maxRetries: 0 });
  const tunnel = await client.zeroTrust.tunnels.cloudflared.create({ account_id: cf.accountId, name: `molecule-${t.orgId}`, config_src: 'cloudflare' });
  const host = `${t.slug}.${world.appDomain}`;
  const record = await client.dns.records.create({ zone_id: cf.zoneId, type: 'CNAME', name: host, content: `${tunnel.id}.cfargotunnel.com`, proxied: true, ttl: 1 });

  const dbPassword = randomBytes(24).toString('base64url');
  const bundleValue = JSON.stringify({
    DB_PASSWORD: dbPassword,
    ADMIN_TOKEN: randomBytes(24).toString('base64url'),
    TUNNEL_TOKEN: randomBytes(32).toString('base64url'),
    SECRETS_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    ORG_ID: t.orgId,
    ORG_SLUG: t.slug,
  });
  const bundleName = CP_BUNDLE_TEMPLATE.replace('{env}', world.env).replace('{orgId}', t.orgId);
  await check.secrets.send(new CreateSecretCommand({ Name: bundleName, SecretString: bundleValue, Tags: tags({ OrgID: t.orgId }) }));

  const group = async (name: string, platform: boolean): Promise<string> => {
    const id = (await check.ec2.send(new CreateSecurityGroupCommand({ GroupName: name, Description: 'molecule control plane', VpcId: aws.seed.vpcId }))).GroupId!;
    const perms = [
      { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, UserIdGroupPairs: [{ GroupId: aws.seed.eicSecurityGroupId }] },
      ...(platform ? [{ IpProtocol: 'tcp', FromPort: port, ToPort: port, IpRanges: [{ CidrIp: aws.seed.vpcCidr }] }] : []),
    ];
    await check.ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: id, IpPermissions: perms }));
    return id;
  };
  const launch = async (type: string, volumeGb: number, groupId: string, instanceTags: Record<string, string>): Promise<string> => {
    const out = await check.ec2.send(
      new RunInstancesCommand({
        ImageId: aws.seed.ami,
        InstanceType: type as never,
        MinCount: 1,
        MaxCount: 1,
        SubnetId: aws.seed.subnetId,
        SecurityGroupIds: [groupId],
        BlockDeviceMappings: [{ DeviceName: '/dev/sda1', Ebs: { VolumeSize: volumeGb, VolumeType: 'gp3' } }],
        TagSpecifications: [{ ResourceType: 'instance', Tags: tags(instanceTags) }],
      }),
    );
    return out.Instances![0]!.InstanceId!;
  };

  const groupId = await group(`molecule-org-${t.orgId}`, true);
  const tenantTags: Record<string, string> = { OrgID: t.orgId, OrgSlug: t.slug, Role: 'tenant', TunnelID: tunnel.id!, SGID: groupId };
  for (const k of t.omitTags ?? []) delete tenantTags[k];
  const instanceId = await launch(t.instanceType ?? 't3.small', 30, groupId, tenantTags);
  const workspaces: SeededTenant['workspaces'] = [];
  for (const w of t.workspaces ?? []) {
    const wg = await group(`molecule-ws-${w.workspaceId}`, false);
    const wi = await launch(w.instanceType, w.volumeGb, wg, { WorkspaceID: w.workspaceId, Runtime: w.runtime, Role: 'workspace', SGID: wg, OrgID: t.orgId });
    workspaces.push({ ...w, instanceId: wi, groupId: wg });
  }
  return { orgId: t.orgId, slug: t.slug, instanceId, groupId, tunnelId: tunnel.id!, recordId: record.id, bundleName, bundleValue, dbPassword, workspaces };
}
