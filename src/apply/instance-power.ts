/**
 * Instance power and size: waiting for states under a deadline, driving one instance to running
 * or stopped, terminate / stop / start / change type.
 */
import { ModifyInstanceAttributeCommand, StartInstancesCommand, StopInstancesCommand, TerminateInstancesCommand, type Instance } from '@aws-sdk/client-ec2';
import { CloudError, DeadlineExceeded } from '../errors.js';
import { awsCall, hasCode } from './cloud.js';
import type { ActContext } from './context.js';
import { instanceStates } from './instance-find.js';
import { pollBackoff } from './poll.js';

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
