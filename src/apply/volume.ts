/**
 * Root volumes grow in place (EBS elastic volumes): ModifyVolume, wait until the modification is
 * `optimizing` or `completed` (the new size is usable from `optimizing` on; a `failed` one or the
 * volume deadline is an error, never a hang), then grow the partition and the filesystem over SSM
 * while the instance runs — no reboot. Reads before it writes: a volume already at the size, or
 * with a modification to at least that size under way, is not modified again.
 */
import {
  DescribeVolumesCommand,
  DescribeVolumesModificationsCommand,
  ModifyVolumeCommand,
  type Instance,
  type Volume,
  type VolumeModification,
} from '@aws-sdk/client-ec2';
import { CloudError, DeadlineExceeded } from '../errors.js';
import { awsCall, hasCode } from './cloud.js';
import { runShellCommand } from './command.js';
import type { ActContext } from './context.js';
import { pollBackoff } from './poll.js';

export interface VolumeTarget {
  orgId: string;
  workspaceId?: string;
}

/**
 * Grows the root partition and filesystem to the disk's size, for Amazon Linux 2023's root
 * (xfs on /dev/nvme0n1p1 or /dev/xvda1) and ext2/3/4 alike, online. growpart exits 1 when there is
 * nothing to grow (a re-run), which is not a failure.
 */
export const GROW_ROOT_FILESYSTEM_SCRIPT = [
  'set -euo pipefail',
  'source=$(findmnt -n -o SOURCE /)',
  'fstype=$(findmnt -n -o FSTYPE /)',
  'name=$(basename "$source")',
  'if [ -e "/sys/class/block/$name/partition" ]; then',
  '  disk="/dev/$(lsblk -ndo PKNAME "$source")"',
  '  partition=$(cat "/sys/class/block/$name/partition")',
  '  rc=0; growpart "$disk" "$partition" || rc=$?',
  '  if [ "$rc" -gt 1 ]; then echo "growpart $disk $partition failed ($rc)" >&2; exit "$rc"; fi',
  'fi',
  'case "$fstype" in',
  '  xfs) xfs_growfs -d / ;;',
  '  ext2|ext3|ext4) resize2fs "$source" ;;',
  '  *) echo "cannot grow a $fstype root filesystem" >&2; exit 1 ;;',
  'esac',
].join('\n');

/** The root mapping (RootDeviceName, else the only EBS mapping), as the observer reads it. */
function rootVolumeId(instance: Instance): string | undefined {
  const mappings = (instance.BlockDeviceMappings ?? []).filter((m) => m.Ebs?.VolumeId);
  const root = mappings.find((m) => m.DeviceName === instance.RootDeviceName) ?? (mappings.length === 1 ? mappings[0] : undefined);
  return root?.Ebs?.VolumeId;
}

async function latestModification(ctx: ActContext, volumeId: string): Promise<VolumeModification | undefined> {
  try {
    const out = await awsCall(ctx, 'ec2', 'DescribeVolumesModifications', `volume ${volumeId}`, () =>
      ctx.aws.ec2.send(new DescribeVolumesModificationsCommand({ VolumeIds: [volumeId] })),
    );
    const all = (out.VolumesModifications ?? []).filter((m) => m.VolumeId === volumeId);
    return all.sort((a, b) => (a.StartTime?.getTime() ?? 0) - (b.StartTime?.getTime() ?? 0)).at(-1);
  } catch (e) {
    // AWS: a volume never modified has no modification to describe.
    if (hasCode(e, 'InvalidVolumeModification.NotFound')) return undefined;
    throw e;
  }
}

export interface VolumeGrowth {
  volumeId: string;
  fromGb: number;
  toGb: number;
  /** False when the volume already had the size (a re-run): nothing was modified. */
  modified: boolean;
}

/** ModifyVolume to `sizeGb` and wait for it under `deadlines.volumeMs`. Never shrinks. */
export async function growRootVolume(ctx: ActContext, instance: Instance, sizeGb: number, target: VolumeTarget): Promise<VolumeGrowth> {
  const instanceId = instance.InstanceId!;
  const volumeId = rootVolumeId(instance);
  if (!volumeId) throw new CloudError('the instance has no EBS root volume to grow', { operation: 'ModifyVolume', resource: `instance ${instanceId}` });
  const resource = `root volume ${volumeId} of instance ${instanceId}`;
  const described = await awsCall(ctx, 'ec2', 'DescribeVolumes', resource, () => ctx.aws.ec2.send(new DescribeVolumesCommand({ VolumeIds: [volumeId] })));
  const volume: Volume | undefined = described.Volumes?.[0];
  const fromGb = volume?.Size ?? 0;
  const current = await latestModification(ctx, volumeId);
  const underWay = current && current.ModificationState !== 'completed' && current.ModificationState !== 'failed' && (current.TargetSize ?? 0) >= sizeGb;
  let modified = false;
  if (!underWay && fromGb < sizeGb) {
    await awsCall(ctx, 'ec2', 'ModifyVolume', resource, () => ctx.aws.ec2.send(new ModifyVolumeCommand({ VolumeId: volumeId, Size: sizeGb })));
    modified = true;
  }
  if (underWay || modified) await waitUsable(ctx, volumeId, sizeGb, resource);
  ctx.audit({
    kind: 'instance',
    resourceId: instanceId,
    orgId: target.orgId,
    ...(target.workspaceId ? { workspaceId: target.workspaceId } : {}),
    state: 'resized',
    details: { volumeId, fromGb, toGb: Math.max(sizeGb, fromGb), modified },
  });
  return { volumeId, fromGb, toGb: Math.max(sizeGb, fromGb), modified };
}

/** Polls DescribeVolumesModifications until the modification is optimizing or completed. */
async function waitUsable(ctx: ActContext, volumeId: string, sizeGb: number, resource: string): Promise<void> {
  const started = ctx.clock.now();
  const pause = pollBackoff(ctx.clock, ctx.deadlines.pollMs);
  for (;;) {
    const m = await latestModification(ctx, volumeId);
    const state = m?.ModificationState;
    if (state === 'failed') {
      throw new CloudError(`the modification to ${sizeGb} GB failed${m?.StatusMessage ? `: ${m.StatusMessage}` : ''}`, { operation: 'ModifyVolume', resource });
    }
    if ((state === 'optimizing' || state === 'completed') && (m?.TargetSize ?? sizeGb) >= sizeGb) return;
    if (ctx.clock.now() - started >= ctx.deadlines.volumeMs) {
      throw new DeadlineExceeded(`the modification to ${sizeGb} GB is still ${state ?? 'not visible'} after ${Math.round(ctx.deadlines.volumeMs / 1000)} s`, {
        operation: 'wait for volume modification',
        resource,
      });
    }
    await pause();
  }
}

/** Grows the root partition and filesystem over SSM (the instance must be running). */
export async function growRootFilesystem(ctx: ActContext, instanceId: string, target: VolumeTarget): Promise<void> {
  const [result] = await runShellCommand(ctx, {
    targets: [{ instanceId, orgId: target.orgId, ...(target.workspaceId ? { workspaceId: target.workspaceId } : {}) }],
    script: GROW_ROOT_FILESYSTEM_SCRIPT,
    comment: 'tenantform grow root partition and filesystem',
  });
  if (!result?.ok) {
    throw new CloudError(
      `growing the root filesystem over SSM ended ${result?.status ?? 'without a result'}${result?.statusDetails ? ` (${result.statusDetails})` : ''}`,
      {
        operation: 'grow filesystem',
        resource: `instance ${instanceId}`,
      },
    );
  }
}
