/**
 * EC2 instances: find by identity tags before creating, launch with a deterministic ClientToken
 * (AWS returns the first launch for a retried token; moto does not, so find-before-create is what
 * actually prevents duplicates there and after any crash), wait for states under a deadline, and
 * power/size changes.
 */
import {
  DescribeImagesCommand,
  DescribeInstancesCommand,
  ModifyInstanceAttributeCommand,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  type Filter,
  type Instance,
  type Tag as Ec2Tag,
} from '@aws-sdk/client-ec2';
import { MANAGED_BY, Tag, baseTags, clientToken, type Role } from '../contract.js';
import type { InstanceState } from '../live/model.js';
import { CloudError, DeadlineExceeded } from '../errors.js';
import { awsCall, hasCode } from './cloud.js';
import type { ActContext } from './context.js';
import { pollBackoff } from './poll.js';
import { toBase64 } from './user-data.js';

export interface InstanceIdentity {
  role: Role;
  orgId: string;
  slug: string;
  /** Workspaces only. */
  workspaceId?: string;
}

export interface InstanceLaunch extends InstanceIdentity {
  instanceType: string;
  volumeGb: number;
  ami: string;
  userData: string;
  securityGroupId: string;
  /** Name tag value. */
  name: string;
  /** Further tags (Image, Runtime, Tier, TunnelID, SGID, DeletionProtection…); identity tags are added here. */
  tags: Record<string, string>;
}

/** States in which an instance still stands for its identity (adopt it rather than launch another). */
export const STANDING_STATES: InstanceState[] = ['pending', 'running', 'stopping', 'stopped'];
/** States from which terminate still has work to wait for. */
export const NOT_TERMINATED_STATES: InstanceState[] = ['pending', 'running', 'stopping', 'stopped', 'shutting-down'];

const DEFAULT_ROOT_DEVICE = '/dev/xvda';
const MAX_GENERATION_BUMPS = 5;

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

async function describe(ctx: ActContext, filters: Filter[], resource: string): Promise<Instance[]> {
  const found: Instance[] = [];
  let token: string | undefined;
  // moto cuts pages at 100 reservations even without MaxResults: always follow NextToken.
  do {
    const out = await awsCall(ctx, 'ec2', 'DescribeInstances', resource, () =>
      ctx.aws.ec2.send(new DescribeInstancesCommand({ Filters: filters, MaxResults: 1000, NextToken: token })),
    );
    for (const r of out.Reservations ?? []) found.push(...(r.Instances ?? []));
    token = out.NextToken;
  } while (token);
  return found;
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

/**
 * Per EC2 client (one account and region), not per context: the executor gives every action a
 * context of its own, and a per-context cache made one DescribeImages per launch.
 */
const rootDevices = new WeakMap<object, Map<string, Promise<string>>>();

/** The wiring preflight has described the AMIs already: their root devices save each a DescribeImages. */
export function rememberRootDevice(ec2: object, ami: string, device: string): void {
  let perCtx = rootDevices.get(ec2);
  if (!perCtx) rootDevices.set(ec2, (perCtx = new Map()));
  if (!perCtx.has(ami)) perCtx.set(ami, Promise.resolve(device));
}

/** The AMI's root device, so BlockDeviceMappings resizes the root volume instead of adding one. */
function rootDeviceName(ctx: ActContext, ami: string): Promise<string> {
  let perCtx = rootDevices.get(ctx.aws.ec2);
  if (!perCtx) rootDevices.set(ctx.aws.ec2, (perCtx = new Map()));
  let cached = perCtx.get(ami);
  if (!cached) {
    cached = awsCall(ctx, 'ec2', 'DescribeImages', `AMI ${ami}`, () => ctx.aws.ec2.send(new DescribeImagesCommand({ ImageIds: [ami] })))
      .then((out) => out.Images?.[0]?.RootDeviceName ?? DEFAULT_ROOT_DEVICE)
      .catch((e: unknown) => {
        if (hasCode(e, 'InvalidAMIID.NotFound', 'InvalidAMIID.Malformed')) return DEFAULT_ROOT_DEVICE;
        perCtx.delete(ami);
        throw e;
      });
    perCtx.set(ami, cached);
  }
  return cached;
}

function toTags(tags: Record<string, string>): Ec2Tag[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

export function instanceTags(ctx: ActContext, launch: InstanceLaunch): Record<string, string> {
  const tags: Record<string, string> = {
    ...launch.tags,
    ...baseTags(ctx.wiring.environment, launch.role, launch.orgId, launch.slug),
    [Tag.name]: launch.name,
    [Tag.sgId]: launch.securityGroupId,
  };
  if (launch.workspaceId) tags[Tag.workspaceId] = launch.workspaceId;
  if (ctx.gitCommit) tags[Tag.gitCommit] = ctx.gitCommit;
  return tags;
}

export interface EnsuredInstance {
  instanceId: string;
  created: boolean;
  state: string | undefined;
}

export async function ensureInstance(ctx: ActContext, launch: InstanceLaunch): Promise<EnsuredInstance> {
  const auditBase = { kind: 'instance' as const, orgId: launch.orgId, ...(launch.workspaceId ? { workspaceId: launch.workspaceId } : {}) };
  const standing = await findInstances(ctx, launch);
  if (standing.length > 0) {
    const [keep, ...others] = standing;
    if (others.length > 0) {
      // Duplicates are the planner's guard to raise (duplicateLive); apply adopts the oldest and says so.
      ctx.warn(`${describeIdentity(launch)} has ${standing.length} instances (${standing.map((i) => i.InstanceId).join(', ')}); adopting the oldest`);
    }
    ctx.audit({ ...auditBase, resourceId: keep!.InstanceId!, state: 'adopted', details: { state: keep!.State?.Name ?? 'unknown', duplicates: others.length } });
    return { instanceId: keep!.InstanceId!, created: false, state: keep!.State?.Name };
  }

  const tags = instanceTags(ctx, launch);
  const device = await rootDeviceName(ctx, launch.ami);
  // Generation = launches this identity already had that are gone, so a token is never reused for a
  // deliberate relaunch; re-running after a crash sees the same count and sends the same token.
  let generation = (await findInstances(ctx, launch, ['shutting-down', 'terminated'])).length;
  for (let bump = 0; bump <= MAX_GENERATION_BUMPS; bump++, generation++) {
    const token = clientToken(ctx.wiring.environment, launch.role, launch.orgId, launch.workspaceId, generation);
    const out = await launchOnce(ctx, launch, token, () =>
      ctx.aws.ec2.send(
        new RunInstancesCommand({
          ImageId: launch.ami,
          InstanceType: launch.instanceType as never,
          MinCount: 1,
          MaxCount: 1,
          ClientToken: token,
          SubnetId: ctx.wiring.subnetId,
          SecurityGroupIds: [launch.securityGroupId],
          IamInstanceProfile: { Name: ctx.wiring.instanceProfileName },
          KeyName: ctx.wiring.keyName,
          UserData: toBase64(launch.userData),
          BlockDeviceMappings: [{ DeviceName: device, Ebs: { VolumeSize: launch.volumeGb, VolumeType: 'gp3', DeleteOnTermination: true, Encrypted: true } }],
          MetadataOptions: { HttpTokens: 'required', HttpEndpoint: 'enabled' },
          TagSpecifications: [
            { ResourceType: 'instance', Tags: toTags(tags) },
            { ResourceType: 'volume', Tags: toTags(tags) },
          ],
        }),
      ),
    );
    // The token answered IdempotentParameterMismatch and no instance holds it: the next generation.
    if (out === 'tokenSpent') continue;
    const inst = out.Instances?.[0];
    if (!inst?.InstanceId) throw new CloudError('RunInstances returned no instance', { operation: 'RunInstances', resource: describeIdentity(launch) });
    const state = inst.State?.Name;
    // AWS answers a token it has seen with that launch, even if it has since terminated: take the next generation.
    if (state === 'terminated' || state === 'shutting-down') continue;
    ctx.audit({
      ...auditBase,
      resourceId: inst.InstanceId,
      state: 'created',
      details: { instanceType: launch.instanceType, ami: launch.ami, volumeGb: launch.volumeGb, generation },
    });
    return { instanceId: inst.InstanceId, created: true, state };
  }
  throw new CloudError(`every ClientToken up to generation ${generation} returned a terminated instance or was spent by another launch`, {
    operation: 'RunInstances',
    resource: describeIdentity(launch),
  });
}

/**
 * One RunInstances with `token`. IdempotentParameterMismatch means the token was used before with
 * other parameters (the wiring or user-data changed since). When no standing instance holds it,
 * that launch is gone or never happened, so the token is spent and the caller takes the next
 * generation; when one does, it is not ours to replace (it lacks the identity tags, or
 * find-before-create would have adopted it), so that is an error naming it.
 */
async function launchOnce<T>(ctx: ActContext, launch: InstanceLaunch, token: string, run: () => Promise<T>): Promise<T | 'tokenSpent'> {
  try {
    return await awsCall(ctx, 'ec2', 'RunInstances', describeIdentity(launch), run);
  } catch (e) {
    if (!hasCode(e, 'IdempotentParameterMismatch')) throw e;
    const holders = (await describe(ctx, [{ Name: 'client-token', Values: [token] }], describeIdentity(launch))).filter((i) =>
      STANDING_STATES.includes(i.State?.Name as InstanceState),
    );
    if (holders.length === 0) return 'tokenSpent';
    throw new CloudError(
      `ClientToken ${token} already launched ${holders.map((i) => `${i.InstanceId} (${i.State?.Name})`).join(', ')} with other parameters, and it does not carry this identity's tags; tag it or terminate it`,
      { operation: 'RunInstances', resource: describeIdentity(launch), cause: e },
    );
  }
}

/** Current state per instance id; ids that no longer exist are absent from the map. */
export async function instanceStates(ctx: ActContext, instanceIds: string[]): Promise<Map<string, Instance>> {
  // A filter rather than InstanceIds, so an id AWS has forgotten is absent instead of failing the call.
  const found = await describe(ctx, [{ Name: 'instance-id', Values: instanceIds }], `instances ${instanceIds.join(', ')}`);
  return new Map(found.filter((i) => i.InstanceId).map((i) => [i.InstanceId!, i]));
}

/**
 * Poll until every instance is in `target` (a vanished instance counts as terminated). Passing the
 * deadline is an error naming each instance that is not there yet: never a silent leak.
 */
export async function waitForState(
  ctx: ActContext,
  instanceIds: string[],
  target: 'running' | 'stopped' | 'terminated',
  deadlineMs: number,
  operation: string,
): Promise<void> {
  await waitUntil(ctx, instanceIds, (s) => (target === 'terminated' ? s === undefined || s === 'terminated' : s === target), target, deadlineMs, operation);
}

/**
 * Poll until `done` holds for every instance's state (undefined: the instance is gone), and return
 * the last states read. Past the deadline, an error naming each instance that is not `goal` yet.
 */
export async function waitUntil(
  ctx: ActContext,
  instanceIds: string[],
  done: (state: string | undefined) => boolean,
  goal: string,
  deadlineMs: number,
  operation: string,
): Promise<Map<string, Instance>> {
  if (instanceIds.length === 0) return new Map();
  const started = ctx.clock.now();
  const pause = pollBackoff(ctx.clock, ctx.deadlines.pollMs);
  for (;;) {
    const states = await instanceStates(ctx, instanceIds);
    const behind = instanceIds.filter((id) => !done(states.get(id)?.State?.Name));
    if (behind.length === 0) return states;
    if (ctx.clock.now() - started >= deadlineMs) {
      const detail = behind.map((id) => `${id} is ${states.get(id)?.State?.Name ?? 'missing'}`).join(', ');
      throw new DeadlineExceeded(`not ${goal} after ${Math.round(deadlineMs / 1000)} s: ${detail}`, {
        operation,
        resource: behind.map((id) => `instance ${id}`).join(', '),
      });
    }
    await pause();
  }
}

export interface PowerOutcome {
  /** The state first read. */
  was: string;
  /** StopInstances / StartInstances calls made. */
  calls: number;
}

/**
 * Bring one instance to `goal` (running or stopped) under the power deadline, re-reading its state
 * on every poll and aiming at the goal, not at a stage on the way: done the moment it is there,
 * whoever put it there; no call while a transition is under way (pending, stopping); a
 * Stop/StartInstances only when the instance rests in the opposite state — first, or again
 * because something moved it away from the goal meanwhile. A terminated instance is an error.
 */
export async function drivePower(ctx: ActContext, instanceId: string, goal: 'running' | 'stopped', operation: string): Promise<PowerOutcome> {
  const started = ctx.clock.now();
  let pause = pollBackoff(ctx.clock, ctx.deadlines.pollMs);
  const resource = `instance ${instanceId}`;
  let was: string | undefined;
  let calls = 0;
  for (;;) {
    const state = (await instanceStates(ctx, [instanceId])).get(instanceId)?.State?.Name;
    was ??= state ?? 'missing';
    if (state === goal) return { was, calls };
    if (state === undefined || state === 'shutting-down' || state === 'terminated') {
      throw new CloudError(`the instance is ${state ?? 'gone'}, so it cannot be ${goal}`, { operation, resource });
    }
    const opposite = goal === 'stopped' ? 'running' : 'stopped';
    if (state === opposite) {
      try {
        if (goal === 'stopped') await stopInstance(ctx, instanceId);
        else await startInstance(ctx, instanceId);
        calls++;
        // A new transition has begun: look again soon, as for a first wait.
        pause = pollBackoff(ctx.clock, ctx.deadlines.pollMs);
      } catch (e) {
        // It moved between the read and the call: the next read says where it went.
        if (!hasCode(e, 'IncorrectInstanceState')) throw e;
      }
    }
    if (ctx.clock.now() - started >= ctx.deadlines.powerMs) {
      throw new DeadlineExceeded(`not ${goal} after ${Math.round(ctx.deadlines.powerMs / 1000)} s: ${instanceId} is ${state}`, { operation, resource });
    }
    await pause();
  }
}

export async function terminateInstances(ctx: ActContext, instanceIds: string[]): Promise<void> {
  if (instanceIds.length === 0) return;
  try {
    await awsCall(ctx, 'ec2', 'TerminateInstances', `instances ${instanceIds.join(', ')}`, () =>
      ctx.aws.ec2.send(new TerminateInstancesCommand({ InstanceIds: instanceIds })),
    );
  } catch (e) {
    if (!hasCode(e, 'InvalidInstanceID.NotFound')) throw e;
  }
}

export async function stopInstance(ctx: ActContext, instanceId: string): Promise<void> {
  await awsCall(ctx, 'ec2', 'StopInstances', `instance ${instanceId}`, () => ctx.aws.ec2.send(new StopInstancesCommand({ InstanceIds: [instanceId] })));
}

export async function startInstance(ctx: ActContext, instanceId: string): Promise<void> {
  await awsCall(ctx, 'ec2', 'StartInstances', `instance ${instanceId}`, () => ctx.aws.ec2.send(new StartInstancesCommand({ InstanceIds: [instanceId] })));
}

export async function modifyInstanceType(ctx: ActContext, instanceId: string, instanceType: string): Promise<void> {
  await awsCall(ctx, 'ec2', 'ModifyInstanceAttribute', `instance ${instanceId}`, () =>
    ctx.aws.ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: instanceId, InstanceType: { Value: instanceType } })),
  );
}

/** Instances, ours or not (no tag filter), that use a security group, in the given states. */
export async function findGroupUsers(ctx: ActContext, groupId: string, states: InstanceState[] = STANDING_STATES): Promise<Instance[]> {
  const filters: Filter[] = [
    { Name: 'instance.group-id', Values: [groupId] },
    { Name: 'instance-state-name', Values: states },
  ];
  return (await describe(ctx, filters, `instances using security group ${groupId}`)).sort(oldestFirst);
}
