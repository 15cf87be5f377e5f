/**
 * Instance-level changes shared by tenants and workspaces: replacement, resize (type and root
 * volume), start/stop and redeploy, compared against an `InstanceIntent`.
 *
 * - Power. pending counts as running, stopping as stopped. A stopped instance whose desired
 *   power is running gets `start`, and vice versa `stop`. A `resize` (stop → modify → start)
 *   ends in the desired power, so it replaces the separate start/stop.
 * - Instance type compares case-insensitively, trimmed.
 * - Images compare as exact strings (trimmed) against the `Image` tag, with no registry or
 *   `:latest` normalisation: the tag records exactly what apply deployed. A missing tag differs
 *   (the image running there is unknown). An empty desired image is "unknown" and never
 *   compared. Canary tenants' effective image is already resolved in the desired state.
 * - Redeploys run over SSM, which needs a running instance: a redeploy of an instance that
 *   will be stopped is start → run → stop, and one that will run is just run.
 * - Replacement (a `delete` of the instance, then a `create`, both marked `replacement`), for
 *   what cannot change in place: a workspace's Runtime tag; a workspace leaving the
 *   containerised path (its native runtime is laid down at first boot); and an explicit request
 *   (`--replace <slug>` / `--replace <slug>/<workspace>`).
 * - Root volume. EBS grows in place: a live root volume smaller than declared is part of the
 *   `resize` action (`volume:modify`, then `command:run` to grow the partition and filesystem,
 *   bracketed by start/stop when the instance is to be stopped), never a replacement. EBS cannot
 *   shrink: a live volume larger than declared is kept and the plan says so in a non-blocking
 *   `volumeShrink` finding (blocking would refuse every other change of the fleet over a disk
 *   that is merely bigger than asked, often grown by hand on purpose; nothing is lost by keeping
 *   it). An unobserved volume size (undefined) is never compared.
 * - AMI. A different AMI alone never replaces an instance: a tenant instance holds its platform
 *   and database, and the control plane resolved the AMI at launch only. The plan carries an
 *   `olderAmi` notice naming the instances concerned; new launches (creates, repairs,
 *   replacements) use the declared AMI. An unresolved AMI ('') is never compared.
 */
import { Tag } from '../contract.js';
import type { Power } from '../desired/model.js';
import type { LiveInstance } from '../live/model.js';
import { action, replaceName, type PlanContext } from './context.js';
import { describeTarget } from './guards.js';
import { replacementIntent } from './intent-build.js';
import type { Action, ActionIntent, ActionTarget, Attributes, Step } from './model.js';
import { powerOf, sameInstanceType } from './normalise.js';

export interface InstanceIntent {
  instanceType: string;
  volumeGb: number;
  ami: string;
  power: Power;
  /** undefined: not compared; otherwise the image the `Image` tag must show. */
  image: string | undefined;
  /** Reasons this instance cannot be changed in place beyond AMI and volume (workspaces). */
  replaceBecause: string[];
  /** Attributes of the replacement's create. */
  createAttributes: Attributes;
  /** The declaration's intent, carried by every action on this instance but a replacement's delete. */
  declared: ActionIntent;
}

export function planInstanceChanges(ctx: PlanContext, target: ActionTarget, instance: LiveInstance, want: InstanceIntent): Action[] {
  const id = instance.instanceId;
  const replaceBecause = [...want.replaceBecause];
  const requested = ctx.replaceRequested(target);
  const olderAmi = want.ami !== '' && instance.imageId !== want.ami;

  if (replaceBecause.length > 0 || requested) {
    const ami = olderAmi ? ` (AMI ${instance.imageId} → ${want.ami})` : '';
    const why =
      replaceBecause.length > 0
        ? `replacement: ${replaceBecause.join('; ')} cannot change in place${requested ? ` (also requested with --replace ${replaceName(target)})` : ''}${ami}`
        : `replacement requested with --replace ${replaceName(target)}${ami}`;
    const delSteps: Step[] = [{ resource: 'instance', op: 'delete', id }];
    const del = action(
      'delete',
      target,
      delSteps,
      { instanceId: id, ami: instance.imageId, volumeGb: instance.volumeGb ?? null, instanceType: instance.instanceType },
      null,
      why,
      replacementIntent(target, delSteps),
    );
    const createSteps: Step[] = [{ resource: 'instance', op: 'create' }];
    if (want.power === 'stopped') createSteps.push({ resource: 'instance', op: 'stop' });
    const create = action('create', target, createSteps, null, want.createAttributes, why, want.declared);
    del.replacement = true;
    create.replacement = true;
    return [del, create];
  }
  if (olderAmi) ctx.noteOlderAmi(target);

  const actions: Action[] = [];
  const livePower = powerOf(instance.state);
  const growVolume = instance.volumeGb !== undefined && want.volumeGb > instance.volumeGb;
  if (instance.volumeGb !== undefined && want.volumeGb < instance.volumeGb) {
    ctx.flag(
      'volumeShrink',
      false,
      `${describeTarget(target)}: its root volume is ${instance.volumeGb} GB, larger than the declared ${want.volumeGb} GB; EBS volumes cannot shrink, so it is kept as it is (only a new instance gets a smaller one)`,
      [target],
    );
  }
  const newType = !sameInstanceType(instance.instanceType, want.instanceType);
  if (newType || growVolume) {
    const steps: Step[] = [];
    const before: Attributes = {};
    const after: Attributes = {};
    const why: string[] = [];
    if (growVolume) {
      steps.push({ resource: 'volume', op: 'modify', id: instance.rootVolumeId ?? id });
      before.volumeGb = instance.volumeGb!;
      after.volumeGb = want.volumeGb;
      why.push(`root volume ${instance.volumeGb} GB → ${want.volumeGb} GB (grown in place)`);
    }
    if (newType) {
      if (livePower === 'running') steps.push({ resource: 'instance', op: 'stop', id });
      steps.push({ resource: 'instance', op: 'modify', id });
      if (want.power === 'running') steps.push({ resource: 'instance', op: 'start', id });
      before.instanceType = instance.instanceType;
      after.instanceType = want.instanceType;
      why.unshift(`instance type ${instance.instanceType} → ${want.instanceType}`);
    } else if (livePower !== want.power && want.power === 'running') {
      steps.push({ resource: 'instance', op: 'start', id });
    }
    // The partition and filesystem grow over SSM, which needs the instance running (start → run → stop when it is to be stopped).
    if (growVolume) steps.push(...runOnInstance(id, want.power));
    before.power = livePower;
    after.power = want.power;
    actions.push(action('resize', target, steps, before, after, why.join('; '), want.declared));
  } else if (livePower !== want.power) {
    const kind = want.power === 'running' ? 'start' : 'stop';
    // The live state (pending, stopping…) is in the reason; an attribute only one side has would
    // render as "state: running → (none)".
    actions.push(
      action(
        kind,
        target,
        [{ resource: 'instance', op: kind, id }],
        { power: livePower },
        { power: want.power },
        `declared ${want.power}, live ${instance.state}`,
        want.declared,
      ),
    );
  }
  const liveImage = instance.tags?.[Tag.image]?.trim();
  if (want.image !== undefined && liveImage !== want.image) {
    // The attributes show "image: old → new"; the reason says why, without repeating them.
    const why = liveImage === undefined || liveImage === '' ? 'no Image tag, so the image it runs is unknown' : 'the Image tag differs from the declared image';
    actions.push(
      action(
        'redeploy',
        target,
        runOnInstance(id, want.power),
        { image: liveImage || null },
        { image: want.image },
        `${why}; pulled and recreated over SSM, no reboot`,
        want.declared,
      ),
    );
  }
  return actions;
}

/** SSM needs a running instance: one that is (or will be) stopped is started for the command and stopped again. */
export function runOnInstance(instanceId: string, power: Power): Step[] {
  const run: Step = { resource: 'command', op: 'run', id: instanceId };
  if (power === 'running') return [run];
  return [{ resource: 'instance', op: 'start', id: instanceId }, run, { resource: 'instance', op: 'stop', id: instanceId }];
}
