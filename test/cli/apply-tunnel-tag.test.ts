/**
 * Apply recreating a tunnel deleted from outside also re-stamps the standing tenant instance's
 * TunnelID tag (found by drift: the tag kept naming the old tunnel). The plan shows it as a tag
 * update beside the tunnel create; after apply the tag, read with the EC2 client directly, names
 * the new tunnel, and drift is clean.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driftCommandWith } from '../../src/cli/drift.js';
import { memoryIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import type { DriftResult } from '../../src/drift/model.js';
import type { Plan } from '../../src/plan/model.js';
import { virtualClock } from '../apply/harness.js';
import { sdkFor } from '../contract/cloudflare-sdk.js';
import { ORG, startApplyWorld, tagsOf, type ApplyWorld } from './apply-world.js';

describe('apply re-stamps TunnelID when it recreates a tunnel', () => {
  let w: ApplyWorld;
  beforeAll(async () => {
    w = await startApplyWorld();
    expect((await w.run(['apply', '--auto-approve'])).code).toBe(0);
  });
  afterAll(async () => {
    await w?.close();
  });

  const tenantInstance = async () => (await w.instances(ORG.globex)).find((i) => tagsOf(i).Role === 'tenant')!;
  const liveTunnel = () => w.cf.tunnels().find((t) => t.name.endsWith(`.globex.${ORG.globex}`) && !t.deletedAt);
  const drift = async (): Promise<{ code: number; result: DriftResult }> => {
    const io = memoryIo({ env: w.env, cwd: w.dir });
    const code = await main(['drift', '--db', w.db, '--json'], io, [driftCommandWith({ clock: virtualClock() })]);
    return { code, result: JSON.parse(io.out.join('')) as DriftResult };
  };

  it('plans the tunnel create with a tag update, applies it, and the instance names the new tunnel', async () => {
    const old = liveTunnel()!;
    const instance = await tenantInstance();
    expect(tagsOf(instance).TunnelID).toBe(old.id);
    await sdkFor(w.cf, 2).zeroTrust.tunnels.cloudflared.delete(old.id, { account_id: w.cf.accountId });

    const planned = await w.run(['plan', '--json']);
    expect(planned.code).toBe(2);
    const plan = JSON.parse(planned.stdout) as Plan;
    const repair = plan.actions.find((a) => a.target.orgId === ORG.globex && a.target.kind === 'tenant');
    expect(repair?.kind).toBe('repair');
    expect(repair!.steps).toEqual(
      expect.arrayContaining([
        { resource: 'tunnel', op: 'create' },
        { resource: 'tags', op: 'modify', id: instance.InstanceId },
      ]),
    );
    expect(repair!.before?.tunnelIdTag).toBe(old.id);
    const text = await w.run(['plan']);
    expect(text.stdout).toMatch(/tunnelIdTag/);

    expect((await w.run(['apply', '--auto-approve'])).code).toBe(0);
    const fresh = liveTunnel();
    expect(fresh).toBeDefined();
    expect(fresh!.id).not.toBe(old.id);
    const after = await tenantInstance();
    expect(after.InstanceId).toBe(instance.InstanceId);
    expect(tagsOf(after).TunnelID).toBe(fresh!.id);
    expect(
      w.auditRows().some((r) => r.kind === 'instance' && r.resource_id === instance.InstanceId && r.state === 'updated' && (r.details ?? '').includes('TunnelID')),
    ).toBe(true);

    const checked = await drift();
    expect(checked.result.findings).toEqual([]);
    expect(checked.code).toBe(0);
    expect((await w.run(['plan'])).code).toBe(0);
  });
});
