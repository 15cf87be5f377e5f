/**
 * A bigger root volume grows in place (issue 8, item 3): `apply` after a tier's volume grew keeps
 * every instance, DescribeVolumes shows the new size and the filesystem is grown over SSM; a
 * modification stuck in `modifying` past the volume deadline fails the action (exit 4), no hang.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeVolumesCommand, type Instance } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ORG, startApplyWorld, tagsOf, type ApplyWorld } from './apply-world.js';

let w: ApplyWorld;
beforeAll(async () => {
  w = await startApplyWorld();
});
afterAll(async () => {
  await w?.close();
});

function editFleet(edit: (text: string) => string): void {
  const path = join(w.dir, 'fleet.yaml');
  writeFileSync(path, edit(readFileSync(path, 'utf8')));
}

async function rootSize(instanceId: string): Promise<number | undefined> {
  const out = await w.check.ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [instanceId] }] }));
  return out.Volumes?.[0]?.Size;
}

async function all(): Promise<Instance[]> {
  return (await Promise.all(Object.values(ORG).map((o) => w.instances(o)))).flat();
}

describe('a larger root volume', () => {
  it('grows every workspace of a tier in place: same instances, the new size, the filesystem grown over SSM', async () => {
    expect((await w.run(['apply', '--auto-approve'])).code).toBe(0);
    const workspaces = (await all()).filter((i) => tagsOf(i).Role === 'workspace');
    expect(workspaces.length).toBeGreaterThan(0);
    for (const i of workspaces) expect(await rootSize(i.InstanceId!)).toBe(80);

    editFleet((t) => t.replace('{ name: T4, instanceType: t3.large, volumeGb: 80 }', '{ name: T4, instanceType: t3.large, volumeGb: 100 }'));
    const plan = await w.run(['plan']);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain('root volume 80 GB → 100 GB (grown in place)');
    expect(plan.stdout).not.toMatch(/replace/i);

    const from = w.aws.calls.length;
    const res = await w.run(['apply', '--auto-approve']);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    const after = (await all()).filter((i) => tagsOf(i).Role === 'workspace');
    // The same instances, none terminated or launched.
    expect(after.map((i) => i.InstanceId).sort()).toEqual(workspaces.map((i) => i.InstanceId).sort());
    const calls = w.aws.calls.slice(from);
    expect(calls.filter((c) => c.action === 'RunInstances' || c.action === 'TerminateInstances')).toEqual([]);
    for (const i of after) expect(await rootSize(i.InstanceId!)).toBe(100);
    // One ModifyVolume per workspace, waited on, then growpart + filesystem growth sent to each.
    expect(calls.filter((c) => c.action === 'ModifyVolume' && c.status === 200)).toHaveLength(workspaces.length);
    expect(calls.filter((c) => c.action === 'DescribeVolumesModifications').length).toBeGreaterThan(workspaces.length);
    const grows = calls.filter((c) => c.action === 'SendCommand' && JSON.stringify(c.params).includes('growpart'));
    const targeted = grows.flatMap((c) => (c.params.InstanceIds as string[]) ?? []);
    expect(targeted.sort()).toEqual(workspaces.map((i) => i.InstanceId!).sort());
    expect(JSON.stringify(grows[0]!.params)).toContain('xfs_growfs');

    expect((await w.run(['plan'])).code).toBe(0);
  });

  it('a modification stuck in modifying past the deadline fails the action (exit 4) with a clear message', async () => {
    w.aws.faults.faithful.volumeModifyingPolls = 100_000;
    try {
      editFleet((t) => t.replace(/^ {2}volumeGb: 30$/m, '  volumeGb: 40'));
      const from = w.aws.calls.length;
      const res = await w.run(['apply', '--auto-approve'], { deps: { deadlines: { volumeMs: 120_000 } } });
      expect(res.code).toBe(4);
      expect(res.stdout + res.stderr).toMatch(/still modifying after 120 s/);
      // Waited (polls), never grew the filesystem of a volume that is not usable yet.
      const calls = w.aws.calls.slice(from);
      expect(calls.filter((c) => c.action === 'SendCommand' && JSON.stringify(c.params).includes('growpart'))).toEqual([]);
      const tenants = (await all()).filter((i) => tagsOf(i).Role === 'tenant');
      expect(tenants.length).toBeGreaterThan(0);
    } finally {
      w.aws.faults.faithful.volumeModifyingPolls = 1;
    }
  });
});
