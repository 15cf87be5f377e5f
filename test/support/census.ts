/**
 * What exists, read from the outside: every tenantform-tagged instance, security group and
 * bootstrap secret of one environment in the emulator's AWS account, and every tunnel and DNS
 * record the Cloudflare double holds. `censusProblems` compares it with a desired fleet: exactly
 * one of each resource per declared identity, nothing else left standing. Used by the demo, the
 * crash tests and the apply benchmark, so "converged" means the same thing in all three.
 */
import { DescribeInstancesCommand, DescribeSecurityGroupsCommand, type DescribeSecurityGroupsCommandOutput, type Filter } from '@aws-sdk/client-ec2';
import { ListSecretsCommand, type ListSecretsCommandOutput } from '@aws-sdk/client-secrets-manager';
import {
  MANAGED_BY,
  Tag,
  hostname,
  parseTunnelName,
  secretEnvPrefix,
  secretName,
  tenantSecurityGroupName,
  tunnelName,
  tunnelTarget,
  legacyWorkspaceSecurityGroupName,
  workspaceSecurityGroupName,
} from '../../src/contract.js';
import type { AwsTestClients } from './aws.js';
import type { CloudflareDouble } from './cloudflare-double/index.js';

export interface CensusInstance {
  id: string;
  state: string;
  role: string;
  orgId: string;
  slug: string;
  workspaceId: string | undefined;
}

export interface CensusGroup {
  id: string;
  name: string;
  role: string;
  orgId: string;
}

export interface CensusSecret {
  name: string;
  /** Scheduled for deletion (in its recovery window). */
  deleted: boolean;
}

export interface CensusTunnel {
  id: string;
  name: string;
  deleted: boolean;
}

export interface CensusRecord {
  id: string;
  name: string;
  type: string;
  content: string;
}

export interface Census {
  /** Every instance of the environment, terminated ones included (AWS lists them for a while). */
  instances: CensusInstance[];
  groups: CensusGroup[];
  secrets: CensusSecret[];
  /** Tunnels of the environment (by name), deleted ones included. */
  tunnels: CensusTunnel[];
  /** Every record in the zone. */
  records: CensusRecord[];
}

/** The identities a fleet declares. */
export interface DesiredIdentities {
  environment: string;
  appDomain: string;
  tenants: Array<{ slug: string; orgId: string; workspaceIds: string[] }>;
}

const STANDING = new Set(['pending', 'running', 'stopping', 'stopped']);

type Tagged = { Tags?: Array<{ Key?: string; Value?: string }> };
const tag = (x: Tagged, key: string) => x.Tags?.find((t) => t.Key === key)?.Value;

export async function takeCensus(aws: AwsTestClients, cf: CloudflareDouble, environment: string): Promise<Census> {
  const scope: Filter[] = [
    { Name: `tag:${Tag.managedBy}`, Values: [MANAGED_BY] },
    { Name: `tag:${Tag.env}`, Values: [environment] },
  ];
  const instances: CensusInstance[] = [];
  let token: string | undefined;
  do {
    const out = await aws.ec2.send(new DescribeInstancesCommand({ Filters: scope, MaxResults: 1000, NextToken: token }));
    for (const i of (out.Reservations ?? []).flatMap((r) => r.Instances ?? [])) {
      instances.push({
        id: i.InstanceId!,
        state: i.State?.Name ?? 'unknown',
        role: tag(i, Tag.role) ?? '',
        orgId: tag(i, Tag.orgId) ?? '',
        slug: tag(i, Tag.orgSlug) ?? '',
        workspaceId: tag(i, Tag.workspaceId),
      });
    }
    token = out.NextToken;
  } while (token);

  const groups: CensusGroup[] = [];
  token = undefined;
  do {
    const out: DescribeSecurityGroupsCommandOutput = await aws.ec2.send(new DescribeSecurityGroupsCommand({ Filters: scope, NextToken: token }));
    for (const g of out.SecurityGroups ?? []) groups.push({ id: g.GroupId!, name: g.GroupName!, role: tag(g, Tag.role) ?? '', orgId: tag(g, Tag.orgId) ?? '' });
    token = out.NextToken;
  } while (token);

  const secrets: CensusSecret[] = [];
  token = undefined;
  do {
    const out: ListSecretsCommandOutput = await aws.secrets.send(
      new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [secretEnvPrefix(environment)] }], IncludePlannedDeletion: true, MaxResults: 100, NextToken: token }),
    );
    for (const s of out.SecretList ?? []) secrets.push({ name: s.Name!, deleted: s.DeletedDate !== undefined });
    token = out.NextToken;
  } while (token);

  const tunnels = cf
    .tunnels()
    .filter((t) => parseTunnelName(environment, t.name))
    .map((t) => ({ id: t.id, name: t.name, deleted: Boolean(t.deletedAt) }));
  const records = cf.dnsRecords().map((r) => ({ id: r.id, name: r.name, type: r.type, content: String(r.content) }));
  return { instances, groups, secrets, tunnels, records };
}

function count<T>(items: T[], pick: (t: T) => boolean): number {
  return items.filter(pick).length;
}

/**
 * Every way the census differs from "exactly one of each per declared identity, nothing else":
 * duplicates, missing pieces, and leftovers of tenants and workspaces the fleet no longer has.
 * Empty when converged.
 */
export function censusProblems(census: Census, desired: DesiredIdentities): string[] {
  const env = desired.environment;
  const problems: string[] = [];
  const expectOne = (what: string, n: number) => {
    if (n !== 1) problems.push(`${what}: ${n === 0 ? 'missing' : `${n} of them`}`);
  };
  const standing = census.instances.filter((i) => STANDING.has(i.state));
  const activeTunnels = census.tunnels.filter((t) => !t.deleted);
  const activeSecrets = census.secrets.filter((s) => !s.deleted);
  const claimed = { instances: new Set<string>(), groups: new Set<string>(), secrets: new Set<string>(), tunnels: new Set<string>(), records: new Set<string>() };

  for (const t of desired.tenants) {
    const mine = standing.filter((i) => i.role === 'tenant' && i.orgId === t.orgId);
    expectOne(`tenant ${t.slug} instance`, mine.length);
    mine.forEach((i) => claimed.instances.add(i.id));
    for (const ws of t.workspaceIds) {
      const wsInstances = standing.filter((i) => i.role === 'workspace' && i.workspaceId === ws);
      expectOne(`workspace ${ws} of ${t.slug} instance`, wsInstances.length);
      wsInstances.forEach((i) => claimed.instances.add(i.id));
      // Older fleets hold groups named by workspace id alone; such a group is this workspace's only when tagged with this org.
      const wsGroup = workspaceSecurityGroupName(env, t.orgId, ws);
      const wsGroups = census.groups.filter((g) => g.name === wsGroup || (g.name === legacyWorkspaceSecurityGroupName(env, ws) && g.orgId === t.orgId));
      expectOne(`security group ${wsGroup}`, wsGroups.length);
      wsGroups.forEach((g) => claimed.groups.add(g.id));
    }
    const group = tenantSecurityGroupName(env, t.orgId);
    const groups = census.groups.filter((g) => g.name === group);
    expectOne(`security group ${group}`, groups.length);
    groups.forEach((g) => claimed.groups.add(g.id));

    const secret = secretName(env, t.orgId);
    expectOne(
      `secret ${secret}`,
      count(activeSecrets, (s) => s.name === secret),
    );
    claimed.secrets.add(secret);

    const tunnels = activeTunnels.filter((x) => x.name === tunnelName(env, t.slug, t.orgId));
    expectOne(`tunnel of ${t.slug}`, tunnels.length);
    tunnels.forEach((x) => claimed.tunnels.add(x.id));

    const host = hostname(t.slug, desired.appDomain);
    const records = census.records.filter((r) => r.name === host);
    expectOne(`DNS record ${host}`, records.length);
    records.forEach((r) => claimed.records.add(r.id));
    const [record] = records;
    if (record && tunnels.length === 1 && (record.type !== 'CNAME' || record.content !== tunnelTarget(tunnels[0]!.id))) {
      problems.push(`DNS record ${host} is ${record.type} ${record.content}, not a CNAME to tunnel ${tunnels[0]!.id}`);
    }
  }

  for (const i of census.instances) {
    if (i.state !== 'terminated' && !claimed.instances.has(i.id)) problems.push(`left over: ${i.role} instance ${i.id} of ${i.slug || i.orgId} (${i.state})`);
  }
  for (const g of census.groups) if (!claimed.groups.has(g.id)) problems.push(`left over: security group ${g.name} (${g.id})`);
  for (const s of activeSecrets) if (!claimed.secrets.has(s.name)) problems.push(`left over: secret ${s.name}`);
  for (const t of activeTunnels) if (!claimed.tunnels.has(t.id)) problems.push(`left over: tunnel ${t.name} (${t.id})`);
  for (const r of census.records) if (!claimed.records.has(r.id)) problems.push(`left over: DNS record ${r.type} ${r.name}`);
  return problems;
}

/** A fleet's identities, from the product's own loader output. */
export function identitiesOf(desired: {
  fleet: { environment: string; appDomain: string };
  tenants: Array<{ spec: { slug: string; orgId: string }; workspaces: Array<{ spec: { id: string } }> }>;
}): DesiredIdentities {
  return {
    environment: desired.fleet.environment,
    appDomain: desired.fleet.appDomain,
    tenants: desired.tenants.map((t) => ({ slug: t.spec.slug, orgId: t.spec.orgId, workspaceIds: t.workspaces.map((w) => w.spec.id) })),
  };
}
