/**
 * A launch that failed must not block its identity for good (issue 8, item 13): AWS keeps no
 * ClientToken for a failed call, so fixing the wiring lets the next apply launch with the same
 * token; and where a token answers IdempotentParameterMismatch although no instance holds it,
 * the instance step looks the token up and moves on to the next generation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant } from '../../src/apply/tenant.js';
import type { ActContext } from '../../src/apply/context.js';
import { newTenant, orgInstances, startApplyHarness, tenantIntentFor, type ApplyHarness } from './harness.js';

let h: ApplyHarness;
beforeAll(async () => {
  h = await startApplyHarness();
});
afterAll(async () => {
  await h?.close();
});

function withBadProfile(ctx: ActContext): ActContext {
  return { ...ctx, wiring: { ...ctx.wiring, instanceProfileName: 'no-such-profile' } };
}

function runInstancesFor(orgId: string, from: number) {
  return h.aws.calls.slice(from).filter((c) => c.action === 'RunInstances' && JSON.stringify(c.params).includes(orgId));
}

describe('a launch that failed on the wiring', () => {
  it('launches on the next apply once the wiring is fixed, with the same token (a failed call leaves none behind)', async () => {
    const t = newTenant('badprof');
    const from = h.aws.calls.length;
    await expect(createTenant(withBadProfile(h.ctx), tenantIntentFor(h, t))).rejects.toThrow(/RunInstances/);
    expect(await orgInstances(h, t.orgId)).toEqual([]);

    const out = await createTenant(h.ctx, tenantIntentFor(h, t));
    const standing = await orgInstances(h, t.orgId);
    expect(standing.map((i) => i.InstanceId)).toEqual([out.instanceId]);
    const runs = runInstancesFor(t.orgId, from);
    expect(runs.map((c) => c.status === 200)).toEqual([false, true]);
    expect(runs[1]!.params.ClientToken).toBe(runs[0]!.params.ClientToken);
    expect(runs.some((c) => c.errorCode === 'IdempotentParameterMismatch')).toBe(false);
  });

  it('moves to a fresh token when the old one answers IdempotentParameterMismatch and no instance holds it', async () => {
    h.aws.faults.faithful.forgetFailedClientTokens = false;
    try {
      const t = newTenant('spent');
      const from = h.aws.calls.length;
      await expect(createTenant(withBadProfile(h.ctx), tenantIntentFor(h, t))).rejects.toThrow(/RunInstances/);

      const out = await createTenant(h.ctx, tenantIntentFor(h, t));
      expect((await orgInstances(h, t.orgId)).map((i) => i.InstanceId)).toEqual([out.instanceId]);
      const runs = runInstancesFor(t.orgId, from);
      expect(runs.map((c) => c.errorCode ?? String(c.status))).toEqual(['NoSuchEntity', 'IdempotentParameterMismatch', '200']);
      expect(runs[1]!.params.ClientToken).toBe(runs[0]!.params.ClientToken);
      expect(runs[2]!.params.ClientToken).not.toBe(runs[1]!.params.ClientToken);
      // The token was looked up between the mismatch and the fresh launch.
      const lookups = h.aws.calls
        .slice(runs[1]!.seq, runs[2]!.seq - 1)
        .filter((c) => c.action === 'DescribeInstances' && Object.values(c.params).includes('client-token'));
      expect(lookups).toHaveLength(1);
      expect(lookups[0]!.status).toBe(200);

      // And the next apply adopts it: no further launch.
      const again = await createTenant(h.ctx, tenantIntentFor(h, t));
      expect(again.instanceId).toBe(out.instanceId);
      expect(runInstancesFor(t.orgId, from)).toHaveLength(3);
    } finally {
      h.aws.faults.faithful.forgetFailedClientTokens = true;
    }
  });
});
