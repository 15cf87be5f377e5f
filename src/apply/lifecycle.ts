/**
 * Power, size and image changes on existing tenants and workspaces. Each one reads the live
 * instance first and does nothing when it is already as asked, so a re-run after a crash is safe.
 * Redeploys never reboot: an SSM command pulls the new image and recreates the container.
 */
import { CreateTagsCommand, type Instance } from '@aws-sdk/client-ec2';
import { Tag } from '../contract.js';
import { CloudError } from '../errors.js';
import { awsCall } from './cloud.js';
import type { ActContext } from './context.js';
import { runShellCommand, type InvocationResult } from './command.js';
import { describeIdentity, drivePower, findInstances, findInstancesOf, identityKey, modifyInstanceType, waitUntil, type InstanceIdentity } from './instance.js';
import { tenantRedeployScript, workspaceRefreshScript } from './user-data.js';
import { growRootFilesystem, growRootVolume, type VolumeGrowth, type VolumeTarget } from './volume.js';

export type LifecycleTarget = { role: 'tenant'; orgId: string; slug: string } | { role: 'workspace'; orgId: string; slug: string; workspaceId: string };

async function liveInstance(ctx: ActContext, target: LifecycleTarget, operation: string): Promise<Instance> {
  const [instance] = await findInstances(ctx, target as InstanceIdentity);
  if (!instance?.InstanceId) {
    throw new CloudError('no live instance carries its tags (create or repair it first)', { operation, resource: describeIdentity(target as InstanceIdentity) });
  }
  return instance;
}

function auditBase(target: LifecycleTarget, instanceId: string) {
  return { kind: 'instance' as const, resourceId: instanceId, orgId: target.orgId, ...(target.role === 'workspace' ? { workspaceId: target.workspaceId } : {}) };
}

export async function stopTarget(ctx: ActContext, target: LifecycleTarget): Promise<void> {
  const instance = await liveInstance(ctx, target, 'stop');
  const id = instance.InstanceId!;
  const { calls } = await drivePower(ctx, id, 'stopped', 'stop');
  ctx.audit({ ...auditBase(target, id), state: 'stopped', details: { was: instance.State?.Name ?? 'unknown', calls } });
}

export async function startTarget(ctx: ActContext, target: LifecycleTarget): Promise<void> {
  const instance = await liveInstance(ctx, target, 'start');
  const id = instance.InstanceId!;
  const { calls } = await drivePower(ctx, id, 'running', 'start');
  ctx.audit({ ...auditBase(target, id), state: 'started', details: { was: instance.State?.Name ?? 'unknown', calls } });
}

/**
 * Stop, change the instance type, start again if it was running (the power state is restored,
 * even when the modify fails). `tier` also updates the workspace's Tier tag.
 */
export async function resizeTarget(ctx: ActContext, target: LifecycleTarget, instanceType: string, tier?: string): Promise<void> {
  const instance = await liveInstance(ctx, target, 'resize');
  const id = instance.InstanceId!;
  const from = instance.InstanceType;
  const wasRunning = instance.State?.Name === 'running' || instance.State?.Name === 'pending';
  if (from !== instanceType) {
    await drivePower(ctx, id, 'stopped', 'stop for resize');
    try {
      await modifyInstanceType(ctx, id, instanceType);
    } finally {
      if (wasRunning) await drivePower(ctx, id, 'running', 'start after resize');
    }
  }
  if (tier !== undefined) await setTags(ctx, [id], { [Tag.tier]: tier });
  ctx.audit({ ...auditBase(target, id), state: 'resized', details: { from: from ?? 'unknown', to: instanceType, restarted: wasRunning && from !== instanceType } });
}

function volumeTargetOf(target: LifecycleTarget): VolumeTarget {
  return { orgId: target.orgId, ...(target.role === 'workspace' ? { workspaceId: target.workspaceId } : {}) };
}

/** Grows the live instance's root volume to `sizeGb` in place (never shrinks), waiting until it is usable. */
export async function growVolumeTarget(ctx: ActContext, target: LifecycleTarget, sizeGb: number): Promise<VolumeGrowth> {
  const instance = await liveInstance(ctx, target, 'grow volume');
  return growRootVolume(ctx, instance, sizeGb, volumeTargetOf(target));
}

/** Grows the root partition and filesystem to the volume's size over SSM; the instance must be running. */
export async function growFilesystemTarget(ctx: ActContext, target: LifecycleTarget): Promise<void> {
  const instance = await liveInstance(ctx, target, 'grow filesystem');
  await growRootFilesystem(ctx, instance.InstanceId!, volumeTargetOf(target));
}

async function setTags(ctx: ActContext, instanceIds: string[], tags: Record<string, string>): Promise<void> {
  await awsCall(ctx, 'ec2', 'CreateTags', `instance ${instanceIds.join(', ')}`, () =>
    ctx.aws.ec2.send(new CreateTagsCommand({ Resources: instanceIds, Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) })),
  );
}

export interface RedeployTarget {
  target: LifecycleTarget;
  image: string;
}

export interface RedeployResult extends InvocationResult {
  target: LifecycleTarget;
  image: string;
}

/**
 * Tenant redeploys and workspace image refreshes over SSM, one command per (role, image) for up
 * to 50 instances at a time. On success the instance's Image tag moves to the new image, which
 * is what the next plan compares — unless `tagImage` is false: a rollout wave moves it itself
 * (moveImageTag) only once its health gate has passed, so an unhealthy tenant is planned again.
 * Targets with no running instance come back failed (NotRunning).
 */
export async function redeploy(ctx: ActContext, targets: RedeployTarget[], opts: { tagImage?: boolean } = {}): Promise<RedeployResult[]> {
  const results: RedeployResult[] = [];
  const groups = new Map<string, Array<RedeployTarget & { instanceId: string }>>();
  const live = await findInstancesOf(
    ctx,
    targets.map((t) => t.target as InstanceIdentity),
  );
  const found = targets.map((t) => (live.get(identityKey(t.target as InstanceIdentity)) ?? [])[0]);
  // Just launched: give them the power deadline to come up, together, until each is running or
  // has gone elsewhere (stopped meanwhile: SSM cannot reach it, no use waiting on). Stopped or stopping: SSM cannot reach them.
  const pending = found.filter((i) => i?.State?.Name === 'pending').map((i) => i!.InstanceId!);
  const settled = await waitUntil(ctx, pending, (s) => s !== 'pending', 'running', ctx.deadlines.powerMs, 'wait before redeploy');
  for (const [index, t] of targets.entries()) {
    const id = found[index]?.InstanceId;
    const state = (id !== undefined ? settled.get(id) : undefined)?.State?.Name ?? found[index]?.State?.Name;
    const instanceId = state === 'running' ? id : undefined;
    if (!instanceId) {
      results.push({
        ...t,
        instanceId: '',
        orgId: t.target.orgId,
        commandId: undefined,
        ok: false,
        status: 'NotRunning',
        statusDetails: undefined,
        responseCode: undefined,
      });
      continue;
    }
    const key = `${t.target.role}\0${t.image}`;
    groups.set(key, [...(groups.get(key) ?? []), { ...t, instanceId }]);
  }
  for (const members of groups.values()) {
    const { role } = members[0]!.target;
    const image = members[0]!.image;
    const script = role === 'tenant' ? tenantRedeployScript(image) : workspaceRefreshScript(image);
    const invocations = await runShellCommand(ctx, {
      targets: members.map((m) => ({ instanceId: m.instanceId, orgId: m.target.orgId, ...(m.target.role === 'workspace' ? { workspaceId: m.target.workspaceId } : {}) })),
      script,
      comment: `tenantform ${role === 'tenant' ? 'redeploy' : 'image refresh'} ${image}`,
    });
    // The Image tag moves only where the command succeeded; one CreateTags covers them all.
    const succeeded = invocations.filter((inv) => inv.ok).map((inv) => inv.instanceId);
    if (succeeded.length > 0 && opts.tagImage !== false) await moveImageTag(ctx, succeeded, image);
    for (const inv of invocations) {
      const m = members.find((x) => x.instanceId === inv.instanceId)!;
      results.push({ ...inv, target: m.target, image });
    }
  }
  return results;
}

/** Records that `image` now runs on the instances ('': unknown): the Image tag the next plan compares. */
export async function moveImageTag(ctx: ActContext, instanceIds: string[], image: string): Promise<void> {
  await setTags(ctx, instanceIds, { [Tag.image]: image });
}
