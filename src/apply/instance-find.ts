/**
 * Finding EC2 instances by identity tags (find-before-create, adoption, the delete cascade, the
 * group-in-use check) and reading their states. Read-only; paginated through src/live's one
 * DescribeInstances helper.
 */
import { DescribeInstancesCommand, type Filter, type Instance } from '@aws-sdk/client-ec2';
import { MANAGED_BY, Tag, type Role } from '../contract.js';
import { describeAllInstances } from '../live/describe-instances.js';
import type { InstanceState } from '../live/model.js';
import { awsCall } from './cloud.js';
import type { ActContext } from './context.js';

export interface InstanceIdentity {
  role: Role;
  orgId: string;
  slug: string;
  /** Workspaces only. */
  workspaceId?: string;
}

/** States in which an instance still stands for its identity (adopt it rather than launch another). */
export const STANDING_STATES: InstanceState[] = ['pending', 'running', 'stopping', 'stopped'];
/** States from which terminate still has work to wait for. */
export const NOT_TERMINATED_STATES: InstanceState[] = ['pending', 'running', 'stopping', 'stopped', 'shutting-down'];

function identityFilters(ctx: ActContext, id: InstanceIdentity, states: InstanceState[]): Filter[] {
  const filters: Filter[] = [
    { Name: `tag:${Tag.managedBy}`, Values: [MANAGED_BY] },
    { Name: `tag:${Tag.env}`, Values: [ctx.wiring.environment] },
    { Name: `tag:${Tag.orgId}`, Values: [id.orgId] },
    { Name: `tag:${Tag.role}`, Values: [id.role] },
    { Name: 'instance-state-name', Values: states },
  ];
  if (id.workspaceId) filters.push({ Name: `tag:${Tag.workspaceId}`, Values: [id.workspaceId] });
  return filters;
}

export function describeIdentity(id: InstanceIdentity): string {
  return id.role === 'tenant' ? `tenant ${id.slug} (org ${id.orgId})` : `workspace ${id.workspaceId} of ${id.slug}`;
}

/** Every instance matching `filters`, through the act side's budgeted, error-wrapping call. */
export function describe(ctx: ActContext, filters: Filter[], resource: string): Promise<Instance[]> {
  return describeAllInstances((input) => awsCall(ctx, 'ec2', 'DescribeInstances', resource, () => ctx.aws.ec2.send(new DescribeInstancesCommand(input))), filters);
}

/** Instances carrying the identity's tags, in the given states, oldest first. */
export async function findInstances(ctx: ActContext, id: InstanceIdentity, states: InstanceState[] = STANDING_STATES): Promise<Instance[]> {
  const found = await describe(ctx, identityFilters(ctx, id, states), describeIdentity(id));
  return found.sort(oldestFirst);
}

/** The key `findInstancesOf` files an identity's instances under. */
export function identityKey(id: Pick<InstanceIdentity, 'role' | 'orgId' | 'workspaceId'>): string {
  return `${id.role}:${id.orgId}:${id.workspaceId ?? ''}`;
}

/**
 * `findInstances` for many identities in one listing (per 200 orgs, EC2's limit on filter values)
 * instead of one DescribeInstances each: a redeploy wave of 50 tenants costs one call, not 50.
 * Instances come back under `identityKey`, oldest first.
 */
export async function findInstancesOf(ctx: ActContext, ids: InstanceIdentity[], states: InstanceState[] = STANDING_STATES): Promise<Map<string, Instance[]>> {
  const byKey = new Map<string, Instance[]>(ids.map((id) => [identityKey(id), []]));
  const orgs = [...new Set(ids.map((id) => id.orgId))];
  for (let i = 0; i < orgs.length; i += 200) {
    const chunk = orgs.slice(i, i + 200);
    const filters: Filter[] = [
      { Name: `tag:${Tag.managedBy}`, Values: [MANAGED_BY] },
      { Name: `tag:${Tag.env}`, Values: [ctx.wiring.environment] },
      { Name: `tag:${Tag.orgId}`, Values: chunk },
      { Name: 'instance-state-name', Values: states },
    ];
    for (const instance of await describe(ctx, filters, `instances of ${chunk.length} org(s)`)) {
      const tags = Object.fromEntries((instance.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
      const key = identityKey({ role: tags[Tag.role] as Role, orgId: tags[Tag.orgId] ?? '', workspaceId: tags[Tag.workspaceId] || undefined });
      byKey.get(key)?.push(instance);
    }
  }
  for (const list of byKey.values()) list.sort(oldestFirst);
  return byKey;
}

function oldestFirst(a: Instance, b: Instance): number {
  return (a.LaunchTime?.getTime() ?? 0) - (b.LaunchTime?.getTime() ?? 0) || (a.InstanceId ?? '').localeCompare(b.InstanceId ?? '');
}

/** Every not-yet-terminated instance of an org with the given role (all workspaces of a tenant, say). */
export async function findOrgInstances(ctx: ActContext, orgId: string, role: Role): Promise<Instance[]> {
  return findInstances(ctx, { role, orgId, slug: '' }, NOT_TERMINATED_STATES);
}

/** Current state per instance id; ids that no longer exist are absent from the map. */
export async function instanceStates(ctx: ActContext, instanceIds: string[]): Promise<Map<string, Instance>> {
  // A filter rather than InstanceIds, so an id AWS has forgotten is absent instead of failing the call.
  const found = await describe(ctx, [{ Name: 'instance-id', Values: instanceIds }], `instances ${instanceIds.join(', ')}`);
  return new Map(found.filter((i) => i.InstanceId).map((i) => [i.InstanceId!, i]));
}

/** Instances, ours or not (no tag filter), that use a security group, in the given states. */
export async function findGroupUsers(ctx: ActContext, groupId: string, states: InstanceState[] = STANDING_STATES): Promise<Instance[]> {
  const filters: Filter[] = [
    { Name: 'instance.group-id', Values: [groupId] },
    { Name: 'instance-state-name', Values: states },
  ];
  return (await describe(ctx, filters, `instances using security group ${groupId}`)).sort(oldestFirst);
}
