/**
 * Workspace create/delete and the lifecycle verbs (stop, start, resize, redeploy over SSM).
 */
import { DescribeInstanceAttributeCommand, DescribeSecurityGroupsCommand, DescribeVolumesCommand, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runShellCommand } from '../../src/apply/command.js';
import { redeploy, resizeTarget, startTarget, stopTarget } from '../../src/apply/lifecycle.js';
import { createTenant } from '../../src/apply/tenant.js';
import { createWorkspace, deleteWorkspace } from '../../src/apply/workspace.js';
import { workspaceIntent } from '../../src/plan/intent.js';
import { resolveWorkspace, tierResolver } from '../../src/desired/resolve.js';
import type { DesiredWorkspace } from '../../src/desired/model.js';
import { assertNoSecret, markTraffic, newTenant, orgInstances, startApplyHarness, tagsOf, tenantIntentFor, type ApplyHarness } from './harness.js';

let h: ApplyHarness;
beforeAll(async () => {
  h = await startApplyHarness();
});
afterAll(async () => {
  await h?.close();
});

function desiredWorkspace(name: string, runtime: string, tier: string): DesiredWorkspace {
  const spec = {
    apiVersion: 'tenantform.dev/v1',
    name,
    id: `ws-${name}-${Math.random().toString(16).slice(2, 10)}`,
    runtime,
    tier,
    power: 'running' as const,
    image: undefined,
  };
  const fleet = h.ctx.fleet;
  return { spec, effective: resolveWorkspace(fleet, tierResolver(fleet)(tier)!, spec, h.aws.seed.ami), source: { file: 'x', line: 1, col: 1 } };
}

describe('createWorkspace', () => {
  it('launches the clamped tier with the containerised user-data, an EIC-only group and the OrgID tag', async () => {
    const t = newTenant('ws');
    const ws = desiredWorkspace('research', 'hermes', 'T3');
    const out = await createWorkspace(h.ctx, workspaceIntent(t, ws));
    const [instance, ...more] = (await orgInstances(h, t.orgId)).filter((i) => i.InstanceId === out.instanceId);
    expect(more).toEqual([]);
    // T3 is clamped to T4: t3.large, 80 GB (above hermes' 50 GB floor).
    expect(instance!.InstanceType).toBe('t3.large');
    const volumes = await h.check.ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [out.instanceId] }] }));
    expect(volumes.Volumes!.map((v) => v.Size)).toEqual([80]);
    expect(tagsOf(instance!)).toMatchObject({
      ManagedBy: 'tenantform',
      Env: 'dev',
      Role: 'workspace',
      OrgID: t.orgId,
      OrgSlug: t.slug,
      WorkspaceID: ws.spec.id,
      Runtime: 'hermes',
      Tier: 'T4',
      Image: 'ghcr.io/example/hermes:2.1.0',
      SGID: out.securityGroupId,
    });
    const sg = (await h.check.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [out.securityGroupId] }))).SecurityGroups![0]!;
    expect(sg.IpPermissions).toHaveLength(1);
    expect(sg.IpPermissions![0]).toMatchObject({ IpProtocol: 'tcp', FromPort: 22, ToPort: 22 });
    expect(sg.IpPermissions![0]!.UserIdGroupPairs!.map((g) => g.GroupId)).toEqual([h.aws.seed.eicSecurityGroupId]);
    expect(sg.IpPermissions![0]!.IpRanges ?? []).toEqual([]);
    const attr = await h.check.ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: out.instanceId, Attribute: 'userData' }));
    const script = Buffer.from(attr.UserData!.Value!, 'base64').toString('utf8');
    expect(script).toContain("IMAGE='ghcr.io/example/hermes:2.1.0'");
    expect(script).toContain('docker run');
    expect(script).toContain(`WORKSPACE_ID=${ws.spec.id}`);
    assertNoSecret(h, script);

    const traffic = markTraffic(h);
    const again = await createWorkspace(h.ctx, workspaceIntent(t, ws));
    expect(again).toEqual({ ...out, created: [] });
    expect(traffic().awsMutating).toEqual([]);

    await deleteWorkspace(h.ctx, { orgId: t.orgId, slug: t.slug, workspaceId: ws.spec.id });
    expect(await orgInstances(h, t.orgId)).toEqual([]);
    expect((await h.check.ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'tag:OrgID', Values: [t.orgId] }] }))).SecurityGroups).toEqual([]);
  });

  it('uses the native path without an image pin', async () => {
    const t = newTenant('native');
    const ws = desiredWorkspace('plain', 'claude-code', 'T4');
    const out = await createWorkspace(h.ctx, workspaceIntent(t, ws));
    const attr = await h.check.ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: out.instanceId, Attribute: 'userData' }));
    const script = Buffer.from(attr.UserData!.Value!, 'base64').toString('utf8');
    expect(script).not.toContain('docker');
    expect(tagsOf((await orgInstances(h, t.orgId))[0]!).Image).toBeUndefined();
  });
});

describe('lifecycle', () => {
  it('stops, starts and resizes, restoring the power state', async () => {
    const t = newTenant('life');
    const out = await createTenant(h.ctx, tenantIntentFor(h, t));
    const target = { role: 'tenant' as const, ...t };
    const state = async () => (await orgInstances(h, t.orgId)).find((i) => i.InstanceId === out.instanceId)!;

    await stopTarget(h.ctx, target);
    expect((await state()).State?.Name).toBe('stopped');
    const traffic = markTraffic(h);
    await stopTarget(h.ctx, target);
    expect(traffic().awsMutating).toEqual([]);

    // Resizing a stopped instance leaves it stopped.
    await resizeTarget(h.ctx, target, 't3.medium');
    expect((await state()).InstanceType).toBe('t3.medium');
    expect((await state()).State?.Name).toBe('stopped');

    await startTarget(h.ctx, target);
    expect((await state()).State?.Name).toBe('running');
    // Resizing a running one stops it, modifies, and starts it again (the faithful proxy refuses a running resize).
    const resize = markTraffic(h);
    await resizeTarget(h.ctx, target, 't3.xlarge');
    expect(resize().awsMutating).toEqual(['StopInstances', 'ModifyInstanceAttribute', 'StartInstances']);
    expect((await state()).InstanceType).toBe('t3.xlarge');
    expect((await state()).State?.Name).toBe('running');
  });

  it('redeploys over SSM without a reboot and moves the Image tag only where the command succeeded', async () => {
    const a = newTenant('rda');
    const b = newTenant('rdb');
    const outA = await createTenant(h.ctx, tenantIntentFor(h, a));
    const outB = await createTenant(h.ctx, tenantIntentFor(h, b));
    const failing = h.aws.faults.ssm.fail({ instanceIds: [outB.instanceId] });
    const traffic = markTraffic(h);
    const callsFrom = h.aws.calls.length;
    let results;
    try {
      results = await redeploy(h.ctx, [
        { target: { role: 'tenant', ...a }, image: 'ghcr.io/example/platform:1.5.0' },
        { target: { role: 'tenant', ...b }, image: 'ghcr.io/example/platform:1.5.0' },
      ]);
    } finally {
      failing.remove();
    }
    expect(results.map((r) => [r.instanceId, r.ok, r.status])).toEqual([
      [outA.instanceId, true, 'Success'],
      [outB.instanceId, false, 'Failed'],
    ]);
    const mutating = traffic().awsMutating;
    expect(mutating.filter((m) => m === 'SendCommand')).toHaveLength(1); // one command for both tenants
    // One listing finds both instances, one poll waits for both to leave pending (the proxy holds new
    // instances in pending for a poll), and one CreateTags moves the tag.
    const calls = h.aws.calls.slice(callsFrom);
    const beforeSend = calls
      .slice(
        0,
        calls.findIndex((c) => c.action === 'SendCommand'),
      )
      .filter((c) => c.action === 'DescribeInstances');
    const byTag = beforeSend.filter((c) => Object.values(c.params).includes(`tag:OrgID`));
    expect(byTag).toHaveLength(1);
    expect(beforeSend.length - byTag.length).toBeLessThanOrEqual(1);
    expect(mutating.filter((m) => m === 'CreateTags')).toHaveLength(1);
    expect(mutating.some((m) => /Reboot|Stop|Start|Terminate|RunInstances/.test(m))).toBe(false);
    const tags = Object.fromEntries((await Promise.all([a, b].map((t) => orgInstances(h, t.orgId)))).flat().map((i) => [i.InstanceId!, tagsOf(i).Image]));
    expect(tags).toEqual({ [outA.instanceId]: 'ghcr.io/example/platform:1.5.0', [outB.instanceId]: 'ghcr.io/example/platform:1.4.2' });
    const send = h.aws.calls.filter((c) => c.action === 'SendCommand').at(-1)!;
    assertNoSecret(h, JSON.stringify(send.params));
  });

  it('sends at most 50 instances per SendCommand and reads each invocation', async () => {
    const run = await h.check.ec2.send(
      new RunInstancesCommand({ ImageId: h.aws.seed.ami, InstanceType: 't3.micro', MinCount: 51, MaxCount: 51, SubnetId: h.aws.seed.subnetId }),
    );
    const ids = run.Instances!.map((i) => i.InstanceId!);
    h.aws.faults.ssm.holdInProgress({ polls: 2, instanceIds: ids.slice(0, 3) });
    const traffic = markTraffic(h);
    const results = await runShellCommand(h.ctx, { targets: ids.map((instanceId) => ({ instanceId, orgId: 'bulk' })), script: 'true', comment: 'bulk' });
    expect(traffic().awsMutating.filter((a) => a === 'SendCommand')).toHaveLength(2);
    const sends = h.aws.calls.filter((c) => c.action === 'SendCommand').slice(-2);
    expect(sends.map((c) => (c.params.InstanceIds as unknown[]).length)).toEqual([50, 1]);
    expect(results.map((r) => r.instanceId)).toEqual(ids);
    expect(results.every((r) => r.ok)).toBe(true);
  });
});
