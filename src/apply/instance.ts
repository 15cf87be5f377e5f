/**
 * EC2 instance launch: find by identity tags before creating, launch with a deterministic ClientToken
 * (AWS returns the first launch for a retried token; moto does not, so find-before-create is what
 * actually prevents duplicates there and after any crash). Finding instances is instance-find.ts,
 * waiting and power/size changes instance-power.ts.
 */
import { DescribeImagesCommand, RunInstancesCommand, type Tag as Ec2Tag } from '@aws-sdk/client-ec2';
import { Tag, baseTags, clientToken } from '../contract.js';
import type { InstanceState } from '../live/model.js';
import { CloudError } from '../errors.js';
import { awsCall, hasCode } from './cloud.js';
import type { ActContext } from './context.js';
import { describe, describeIdentity, findInstances, STANDING_STATES, type InstanceIdentity } from './instance-find.js';
import { toBase64 } from './user-data.js';

// Finding and powering instances live in their own modules; re-exported so callers keep one import.
export * from './instance-find.js';
export * from './instance-power.js';

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

const DEFAULT_ROOT_DEVICE = '/dev/xvda';
const MAX_GENERATION_BUMPS = 5;

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
