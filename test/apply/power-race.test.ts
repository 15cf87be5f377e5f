/**
 * Power waits aim at the goal, not at a stage on the way (issue 8, item 19): another actor (an
 * operator, another run) moves the instance mid-wait, through the SDK directly, and the action
 * completes at once with the calls the state called for — no sitting out the power deadline.
 */
import { StartInstancesCommand, StopInstancesCommand } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActContext } from '../../src/apply/context.js';
import { redeploy, startTarget, stopTarget, type LifecycleTarget } from '../../src/apply/lifecycle.js';
import { createTenant } from '../../src/apply/tenant.js';
import { newTenant, orgInstances, startApplyHarness, tenantIntentFor, type ApplyHarness } from './harness.js';

let h: ApplyHarness;
beforeAll(async () => {
  h = await startApplyHarness();
});
afterAll(async () => {
  await h?.close();
});

/** A context whose first poll pause lets `actor` act, as another party would while apply waits. */
function withActor(actor: () => Promise<unknown>): ActContext {
  let acted = false;
  return {
    ...h.ctx,
    clock: {
      now: () => h.ctx.clock.now(),
      sleep: async (ms) => {
        if (!acted) {
          acted = true;
          await actor();
        }
        await h.ctx.clock.sleep(ms);
      },
    },
  };
}

async function newRunningTenant(slug: string): Promise<{ target: LifecycleTarget; instanceId: string }> {
  const t = newTenant(slug);
  const out = await createTenant(h.ctx, tenantIntentFor(h, t));
  return { target: { role: 'tenant', ...t }, instanceId: out.instanceId };
}

const actorCalls = new Set<number>();
function productCalls(from: number, action: string, instanceId: string): number {
  return h.aws.calls.slice(from).filter((c) => c.action === action && c.params['InstanceId.1'] === instanceId && !actorCalls.has(c.seq)).length;
}
async function asActor<T>(fn: () => Promise<T>): Promise<T> {
  const off = h.aws.onCall((c) => void actorCalls.add(c.seq));
  try {
    return await fn();
  } finally {
    off();
  }
}

describe('a wait that another actor overtakes', () => {
  it('a stop of a pending instance is done when someone else stops it meanwhile, without a StopInstances of its own', async () => {
    h.aws.faults.faithful.pendingPolls = 1000;
    let target: LifecycleTarget;
    let instanceId: string;
    try {
      ({ target, instanceId } = await newRunningTenant('race-stop'));
    } finally {
      h.aws.faults.faithful.pendingPolls = 1;
    }
    const from = h.aws.calls.length;
    const ctx = withActor(() => asActor(() => h.check.ec2.send(new StopInstancesCommand({ InstanceIds: [instanceId] }))));
    await stopTarget(ctx, target);
    expect((await orgInstances(h, target.orgId)).map((i) => i.State?.Name)).toEqual(['stopped']);
    expect(productCalls(from, 'StopInstances', instanceId)).toBe(0);
    expect(h.audit.findLast((e) => e.resourceId === instanceId)).toMatchObject({ state: 'stopped', details: { was: 'pending', calls: 0 } });
  });

  it('a start whose instance someone stops while it is pending starts it again, once', async () => {
    const { target, instanceId } = await newRunningTenant('race-start');
    await stopTarget(h.ctx, target);
    h.aws.faults.faithful.pendingPolls = 1000;
    const from = h.aws.calls.length;
    try {
      // Our StartInstances leaves it pending (held); the actor stops it; it is stopped, away from the goal.
      const ctx = withActor(async () => {
        h.aws.faults.faithful.pendingPolls = 1;
        await asActor(() => h.check.ec2.send(new StopInstancesCommand({ InstanceIds: [instanceId] })));
      });
      await startTarget(ctx, target);
    } finally {
      h.aws.faults.faithful.pendingPolls = 1;
    }
    expect((await orgInstances(h, target.orgId)).map((i) => i.State?.Name)).toEqual(['running']);
    expect(productCalls(from, 'StartInstances', instanceId)).toBe(2);
  });

  it('a start that finds the instance stopping waits for stopped and starts it; one someone else starts meanwhile needs no call', async () => {
    const { target, instanceId } = await newRunningTenant('race-wait');
    h.aws.faults.faithful.stoppingPolls = 3;
    try {
      await h.check.ec2.send(new StopInstancesCommand({ InstanceIds: [instanceId] }));
      const from = h.aws.calls.length;
      await startTarget(h.ctx, target);
      expect(productCalls(from, 'StartInstances', instanceId)).toBe(1);
      expect((await orgInstances(h, target.orgId)).map((i) => i.State?.Name)).toEqual(['running']);

      await h.check.ec2.send(new StopInstancesCommand({ InstanceIds: [instanceId] }));
      const later = h.aws.calls.length;
      // The actor starts it the moment it has stopped, before apply gets to act.
      const ctx = withActor(async () => {
        await asActor(async () => {
          for (;;) {
            try {
              return await h.check.ec2.send(new StartInstancesCommand({ InstanceIds: [instanceId] }));
            } catch {
              // Still stopping (held): each refused start is not an observation; poll it along.
              await orgInstances(h, target.orgId);
            }
          }
        });
      });
      await startTarget(ctx, target);
      expect(productCalls(later, 'StartInstances', instanceId)).toBe(0);
    } finally {
      h.aws.faults.faithful.stoppingPolls = 1;
    }
  });

  it('a redeploy stops waiting for a pending instance the moment someone stops it, and reports it not running', async () => {
    h.aws.faults.faithful.pendingPolls = 1000;
    let target: LifecycleTarget;
    let instanceId: string;
    try {
      ({ target, instanceId } = await newRunningTenant('race-redeploy'));
    } finally {
      h.aws.faults.faithful.pendingPolls = 1;
    }
    const ctx = withActor(() => asActor(() => h.check.ec2.send(new StopInstancesCommand({ InstanceIds: [instanceId] }))));
    const [result] = await redeploy(ctx, [{ target, image: 'ghcr.io/example/platform:1.4.3' }]);
    // Before: a DeadlineExceeded after sitting out the whole power deadline.
    expect(result).toMatchObject({ ok: false, status: 'NotRunning' });
    expect((await orgInstances(h, target.orgId)).map((i) => i.State?.Name)).toEqual(['stopped']);
  });
});
