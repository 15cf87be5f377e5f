/**
 * EC2 observers: instances, security groups and root volumes carrying this environment's tags.
 * Every listing is filtered server-side (ManagedBy + Env, and OrgSlug for a scoped plan) and
 * paginated at 1,000 — filtered, paginated Describe calls draw from EC2's larger non-mutating
 * bucket, and moto cuts DescribeInstances at 100 reservations even without MaxResults.
 */
import type { Filter, Instance, IpPermission, SecurityGroup, Tag as AwsTag, Volume } from '@aws-sdk/client-ec2';
import { MANAGED_BY, Tag } from '../contract.js';
import { CloudError, describeCause } from '../errors.js';
import { describeAllInstances } from './describe-instances.js';
import type { InstanceState, LiveIngressRule, LiveInstance, LiveSecurityGroup } from './model.js';
import type { Ec2Reader } from './readers.js';

/**
 * States worth observing. Terminated instances linger (an hour on AWS, forever on moto) and are
 * left out; shutting-down ones are kept because a delete cascade waits for them before removing
 * their security groups (the planner treats them as gone otherwise).
 */
export const LIVE_INSTANCE_STATES: readonly InstanceState[] = ['pending', 'running', 'stopping', 'stopped', 'shutting-down'];

const PAGE_SIZE = 1000;
/** AWS accepts at most 200 values per filter. */
const FILTER_VALUES_MAX = 200;

export interface Ec2Scope {
  environment: string;
  /** Restrict to these OrgSlug tag values (a scoped plan); undefined lists the whole environment. */
  slugs?: readonly string[];
}

export function tagsToRecord(tags: readonly AwsTag[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tags ?? []) if (t.Key !== undefined) out[t.Key] = t.Value ?? '';
  return out;
}

function envFilters(scope: Ec2Scope): Filter[][] {
  const base: Filter[] = [
    { Name: `tag:${Tag.managedBy}`, Values: [MANAGED_BY] },
    { Name: `tag:${Tag.env}`, Values: [scope.environment] },
  ];
  if (scope.slugs === undefined) return [base];
  const chunks: Filter[][] = [];
  for (let i = 0; i < scope.slugs.length; i += FILTER_VALUES_MAX) {
    chunks.push([...base, { Name: `tag:${Tag.orgSlug}`, Values: scope.slugs.slice(i, i + FILTER_VALUES_MAX) }]);
  }
  return chunks;
}

/** One paginated listing per filter set (a scoped plan's slugs come in chunks of 200). */
async function listAll<Page, Item>(
  scope: Ec2Scope,
  operation: string,
  fetch: (filters: Filter[], nextToken: string | undefined) => Promise<Page>,
  items: (page: Page) => Item[],
  next: (page: Page) => string | undefined,
): Promise<Item[]> {
  const out: Item[] = [];
  try {
    for (const filters of envFilters(scope)) {
      let token: string | undefined;
      do {
        const page = await fetch(filters, token);
        out.push(...items(page));
        token = next(page);
      } while (token);
    }
  } catch (err) {
    throw new CloudError(describeCause(err), { operation, resource: 'EC2', cause: err });
  }
  return out;
}

const stateFilter: Filter = { Name: 'instance-state-name', Values: [...LIVE_INSTANCE_STATES] };

export async function observeInstances(ec2: Ec2Reader, scope: Ec2Scope): Promise<Instance[]> {
  const out: Instance[] = [];
  try {
    for (const filters of envFilters(scope)) out.push(...(await describeAllInstances((input) => ec2.describeInstances(input), [...filters, stateFilter])));
  } catch (err) {
    throw new CloudError(describeCause(err), { operation: 'list instances', resource: 'EC2', cause: err });
  }
  return out;
}

export function observeSecurityGroups(ec2: Ec2Reader, scope: Ec2Scope): Promise<SecurityGroup[]> {
  return listAll(
    scope,
    'list security groups',
    (Filters, NextToken) => ec2.describeSecurityGroups({ Filters, MaxResults: PAGE_SIZE, NextToken }),
    (p) => p.SecurityGroups ?? [],
    (p) => p.NextToken,
  );
}

/** Volumes carrying our tags (RunInstances tags them through TagSpecifications), for root volume sizes. */
export function observeVolumes(ec2: Ec2Reader, scope: Ec2Scope): Promise<Volume[]> {
  return listAll(
    scope,
    'list volumes',
    (Filters, NextToken) => ec2.describeVolumes({ Filters, MaxResults: PAGE_SIZE, NextToken }),
    (p) => p.Volumes ?? [],
    (p) => p.NextToken,
  );
}

/**
 * instanceId → root volume size (GiB). The root is the mapping at the instance's RootDeviceName;
 * when none matches (moto reports the AMI's /dev/sda1 whatever was mapped) and the instance has a
 * single EBS mapping, that one is the root. Volumes we did not observe leave the size unknown.
 */
export function rootVolumeSizes(instances: readonly Instance[], volumes: readonly Volume[]): Map<string, number> {
  return new Map([...rootVolumes(instances, volumes)].map(([id, v]) => [id, v.sizeGb]));
}

/** instanceId → its root volume (id and size), by the rule of rootVolumeSizes. */
export function rootVolumes(instances: readonly Instance[], volumes: readonly Volume[]): Map<string, { volumeId: string; sizeGb: number }> {
  const sizeById = new Map<string, number>();
  for (const v of volumes) if (v.VolumeId && v.Size !== undefined) sizeById.set(v.VolumeId, v.Size);
  const out = new Map<string, { volumeId: string; sizeGb: number }>();
  for (const i of instances) {
    const mappings = (i.BlockDeviceMappings ?? []).filter((m) => m.Ebs?.VolumeId);
    const root = mappings.find((m) => m.DeviceName === i.RootDeviceName) ?? (mappings.length === 1 ? mappings[0] : undefined);
    const volumeId = root?.Ebs?.VolumeId;
    const size = volumeId ? sizeById.get(volumeId) : undefined;
    if (i.InstanceId && volumeId && size !== undefined) out.set(i.InstanceId, { volumeId, sizeGb: size });
  }
  return out;
}

export function toLiveInstance(i: Instance, rootVolumeGb: number | undefined, rootVolumeId?: string): LiveInstance {
  return {
    instanceId: i.InstanceId ?? '',
    state: (i.State?.Name ?? 'pending') as InstanceState,
    instanceType: i.InstanceType ?? '',
    imageId: i.ImageId ?? '',
    volumeGb: rootVolumeGb,
    ...(rootVolumeId !== undefined ? { rootVolumeId } : {}),
    securityGroupIds: (i.SecurityGroups ?? []).flatMap((g) => (g.GroupId ? [g.GroupId] : [])).sort(),
    launchTime: i.LaunchTime?.toISOString(),
    tags: tagsToRecord(i.Tags),
  };
}

export function toLiveSecurityGroup(g: SecurityGroup): LiveSecurityGroup {
  return {
    groupId: g.GroupId ?? '',
    groupName: g.GroupName ?? '',
    vpcId: g.VpcId,
    tags: tagsToRecord(g.Tags),
    ingress: ingressRules(g.IpPermissions ?? []),
  };
}

/** One rule per (protocol, ports, source), sorted, so equal rule sets compare equal. */
export function ingressRules(perms: readonly IpPermission[]): LiveIngressRule[] {
  const rules: LiveIngressRule[] = [];
  for (const p of perms) {
    const base = { protocol: p.IpProtocol ?? '', fromPort: p.FromPort, toPort: p.ToPort };
    for (const r of p.IpRanges ?? []) rules.push({ ...base, source: `cidr:${r.CidrIp ?? ''}` });
    for (const r of p.Ipv6Ranges ?? []) rules.push({ ...base, source: `cidr6:${r.CidrIpv6 ?? ''}` });
    for (const r of p.UserIdGroupPairs ?? []) rules.push({ ...base, source: `sg:${r.GroupId ?? ''}` });
    for (const r of p.PrefixListIds ?? []) rules.push({ ...base, source: `pl:${r.PrefixListId ?? ''}` });
  }
  const key = (r: LiveIngressRule) => `${r.protocol}:${r.fromPort ?? ''}:${r.toPort ?? ''}:${r.source}`;
  return rules.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
