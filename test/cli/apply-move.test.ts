/**
 * Identity changes end to end (issue 8, item 11): a workspace moved to another tenant, a tenant's
 * orgId edited in place, and a security group still used by an instance the plan keeps. Each
 * either converges in one apply or is refused before any mutating call; what is left is read
 * from the outside (the census: one instance and one group per workspace, nothing leaked).
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  ModifyInstanceAttributeCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFleet } from '../../src/desired/load.js';
import { censusProblems, identitiesOf, takeCensus } from '../support/census.js';
import { ORG, startApplyWorld, tagsOf, type ApplyWorld } from './apply-world.js';

const ANALYTICS = '0b8e4f7a-61c2-4d3e-8f90-a1b2c3d4e004';
/** The name tenantform gave workspace groups before names carried the org: keyed by the workspace id alone. */
const LEGACY_ANALYTICS_GROUP = `tenantform-dev-workspace-${ANALYTICS}`;

describe('identity changes: a workspace moving between tenants, an orgId edited in place', () => {
  let world: ApplyWorld | undefined;
  const w = () => world!;
  beforeAll(async () => {
    world = await startApplyWorld();
  });
  afterAll(async () => {
    await world?.close();
  });

  const census = async () => {
    const loaded = await loadFleet(w().dir, { env: w().env });
    if (!loaded.state) throw new Error(`the test fleet does not load: ${JSON.stringify(loaded.diagnostics)}`);
    return censusProblems(await takeCensus(w().check, w().cf, 'dev'), identitiesOf(loaded.state));
  };
  const groupsOf = async (workspaceId: string) =>
    (await w().check.ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'tag:WorkspaceID', Values: [workspaceId] }] }))).SecurityGroups ?? [];
  const workspaceInstances = async (workspaceId: string) =>
    (await w().instances(ORG.initech)).concat(await w().instances(ORG.umbrella)).filter((i) => tagsOf(i).WorkspaceID === workspaceId);

  it('a fleet made before group names carried the org (a live group named by workspace id alone) applies as it is', async () => {
    // What an earlier tenantform left: initech's analytics group, tagged as ours, under the old name.
    const vpcId = w().env.EC2_VPC_ID!;
    expect(vpcId).toMatch(/^vpc-/);
    await w().check.ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: LEGACY_ANALYTICS_GROUP,
        Description: `tenantform workspace ${ANALYTICS}`,
        VpcId: vpcId,
        TagSpecifications: [
          {
            ResourceType: 'security-group',
            Tags: Object.entries({
              ManagedBy: 'tenantform',
              Env: 'dev',
              Role: 'workspace',
              OrgID: ORG.initech,
              OrgSlug: 'initech',
              WorkspaceID: ANALYTICS,
              Name: LEGACY_ANALYTICS_GROUP,
            }).map(([Key, Value]) => ({ Key, Value })),
          },
        ],
      }),
    );
    const res = await w().run(['apply', '--auto-approve']);
    expect(res.code).toBe(0);
    // The legacy group was adopted, not doubled.
    expect((await groupsOf(ANALYTICS)).map((g) => g.GroupName)).toEqual([LEGACY_ANALYTICS_GROUP]);
    expect(await census()).toEqual([]);
    expect((await w().run(['plan'])).code).toBe(0);
  });

  it('moving a workspace file to another tenant converges in one apply: deleted under the old org, created under the new', async () => {
    const from = join(w().dir, 'tenants', 'initech', 'workspaces', 'analytics.yaml');
    mkdirSync(join(w().dir, 'tenants', 'umbrella', 'workspaces'), { recursive: true });
    renameSync(from, join(w().dir, 'tenants', 'umbrella', 'workspaces', 'analytics.yaml'));
    const [old] = await workspaceInstances(ANALYTICS);

    const plan = await w().run(['plan']);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toMatch(/moved to tenant umbrella/);
    expect(plan.stdout).toMatch(/moved from tenant initech/);

    const res = await w().run(['apply', '--auto-approve']);
    expect(res.stderr).not.toMatch(/DependencyViolation|still in use/);
    expect(res.code).toBe(0);

    const instances = await workspaceInstances(ANALYTICS);
    expect(instances).toHaveLength(1);
    expect(tagsOf(instances[0]!).OrgID).toBe(ORG.umbrella);
    expect(instances[0]!.InstanceId).not.toBe(old!.InstanceId);
    const groups = await groupsOf(ANALYTICS);
    expect(groups).toHaveLength(1);
    expect(tagsOf(groups[0]!).OrgID).toBe(ORG.umbrella);
    expect(instances[0]!.SecurityGroups?.map((g) => g.GroupId)).toEqual([groups[0]!.GroupId]);
    expect(await census()).toEqual([]);

    const traffic = w().mark();
    const again = await w().run(['plan']);
    expect(again.stdout).toContain('No changes');
    expect(again.code).toBe(0);
    expect(traffic()).toEqual({ aws: [], cf: [] });
  });

  it('moving it back converges too (the group names of two orgs never collide)', async () => {
    renameSync(join(w().dir, 'tenants', 'umbrella', 'workspaces', 'analytics.yaml'), join(w().dir, 'tenants', 'initech', 'workspaces', 'analytics.yaml'));
    const res = await w().run(['apply', '--auto-approve']);
    expect(res.code).toBe(0);
    const instances = await workspaceInstances(ANALYTICS);
    expect(instances.map((i) => tagsOf(i).OrgID)).toEqual([ORG.initech]);
    expect((await groupsOf(ANALYTICS)).map((g) => tagsOf(g).OrgID)).toEqual([ORG.initech]);
    expect(await census()).toEqual([]);
    expect((await w().run(['plan'])).code).toBe(0);
  });

  it('an orgId edited in place is refused before any mutating call, naming both org ids', async () => {
    const file = join(w().dir, 'tenants', 'initech', 'tenant.yaml');
    const original = readFileSync(file, 'utf8');
    const edited = '5f0c6a52-3b1e-4c8e-9a57-2d41e8a0b0ff';
    writeFileSync(file, original.replace(ORG.initech, edited));
    const traffic = w().mark();
    try {
      const plan = await w().run(['plan']);
      expect(plan.code).toBe(3);
      expect(plan.stdout).toContain(ORG.initech);
      expect(plan.stdout).toContain(edited);
      const res = await w().run(['apply', '--auto-approve']);
      expect(res.code).toBe(3);
      expect(res.stderr).toMatch(new RegExp(`initech.*${ORG.initech}.*${edited}|initech.*${edited}.*${ORG.initech}`));
      expect(traffic()).toEqual({ aws: [], cf: [] });
    } finally {
      writeFileSync(file, original);
    }
    expect(await census()).toEqual([]);
  });

  it('a group the plan deletes but an instance it keeps still uses is refused at plan time, naming the instance', async () => {
    // umbrella's tenant instance is (by hand) put into initech's analytics group as well.
    const umbrellaVm = (await w().instances(ORG.umbrella)).find((i) => tagsOf(i).Role === 'tenant')!;
    const [group] = await groupsOf(ANALYTICS);
    const own = umbrellaVm.SecurityGroups!.map((g) => g.GroupId!);
    await w().check.ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: umbrellaVm.InstanceId, Groups: [...own, group!.GroupId!] }));
    const file = join(w().dir, 'tenants', 'initech', 'workspaces', 'analytics.yaml');
    const text = readFileSync(file, 'utf8');
    rmSync(file);
    const traffic = w().mark();
    try {
      const res = await w().run(['apply', '--auto-approve']);
      expect(res.code).toBe(3);
      expect(res.stderr).toContain(umbrellaVm.InstanceId!);
      expect(res.stderr).toContain(group!.GroupId!);
      expect(traffic()).toEqual({ aws: [], cf: [] });
    } finally {
      writeFileSync(file, text);
      await w().check.ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: umbrellaVm.InstanceId, Groups: own }));
    }
    expect((await w().run(['plan'])).code).toBe(0);
  });

  it('a group held by an instance the inventory cannot see fails at once, naming it, instead of retrying for minutes', async () => {
    // A hand-made, untagged instance in initech's analytics group: invisible to the planner.
    const [group] = await groupsOf(ANALYTICS);
    const [ws] = await workspaceInstances(ANALYTICS);
    const stray = (
      await w().check.ec2.send(
        new RunInstancesCommand({
          ImageId: ws!.ImageId!,
          MinCount: 1,
          MaxCount: 1,
          InstanceType: 't3.micro',
          SubnetId: ws!.SubnetId,
          SecurityGroupIds: [group!.GroupId!],
        }),
      )
    ).Instances![0]!.InstanceId!;
    const file = join(w().dir, 'tenants', 'initech', 'workspaces', 'analytics.yaml');
    const text = readFileSync(file, 'utf8');
    rmSync(file);
    try {
      const from = w().aws.calls.length;
      const res = await w().run(['apply', '--auto-approve']);
      expect(res.code).toBe(4);
      expect(res.stdout + res.stderr).toContain(stray);
      // One refused delete, not five minutes of retries.
      expect(
        w()
          .aws.calls.slice(from)
          .filter((c) => c.action === 'DeleteSecurityGroup'),
      ).toHaveLength(1);

      await w().check.ec2.send(new TerminateInstancesCommand({ InstanceIds: [stray] }));
      const after = await w().run(['apply', '--auto-approve']);
      expect(after.code).toBe(0);
      expect(await groupsOf(ANALYTICS)).toEqual([]);
    } finally {
      writeFileSync(file, text);
    }
    expect((await w().run(['apply', '--auto-approve'])).code).toBe(0);
    expect(await census()).toEqual([]);
  });

  it("a fleet left half-moved by the old group names (the new owner's instance in the old owner's group) recovers without a retry loop", async () => {
    // What the old naming left after a move: umbrella's analytics instance was launched into initech's
    // analytics group (adopted by name), initech's instance is terminated, and its group cannot go.
    const [group] = await groupsOf(ANALYTICS);
    const [old] = await workspaceInstances(ANALYTICS);
    const tags = { ...tagsOf(old!), OrgID: ORG.umbrella, OrgSlug: 'umbrella' };
    const launched = await w().check.ec2.send(
      new RunInstancesCommand({
        ImageId: old!.ImageId!,
        InstanceType: old!.InstanceType,
        MinCount: 1,
        MaxCount: 1,
        SubnetId: old!.SubnetId,
        SecurityGroupIds: [group!.GroupId!],
        BlockDeviceMappings: [{ DeviceName: old!.RootDeviceName!, Ebs: { VolumeSize: 80 } }],
        TagSpecifications: [{ ResourceType: 'instance', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }],
      }),
    );
    const adopted = launched.Instances![0]!.InstanceId!;
    await w().check.ec2.send(new TerminateInstancesCommand({ InstanceIds: [old!.InstanceId!] }));
    mkdirSync(join(w().dir, 'tenants', 'umbrella', 'workspaces'), { recursive: true });
    renameSync(join(w().dir, 'tenants', 'initech', 'workspaces', 'analytics.yaml'), join(w().dir, 'tenants', 'umbrella', 'workspaces', 'analytics.yaml'));

    const plan = await w().run(['plan']);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain(`its instance sits in ${group!.GroupId}`);

    // The old group's delete and the instance's move run in parallel (two tenants): the delete may
    // come first, and then fails at once naming the instance, never waiting out the deadline; or
    // its DependencyViolation lands just before the move and its one retry finds the group free.
    // Either way no retry loop: at most two DeleteSecurityGroup calls (the old code made 65).
    const from = w().aws.calls.length;
    const first = await w().run(['apply', '--auto-approve']);
    expect([0, 4]).toContain(first.code);
    if (first.code === 4) expect(first.stderr).toContain(`still used by instance ${adopted}`);
    expect(
      w()
        .aws.calls.slice(from)
        .filter((c) => c.action === 'DeleteSecurityGroup').length,
    ).toBeLessThanOrEqual(2);
    const second = await w().run(['apply', '--auto-approve']);
    expect(second.code).toBe(0);

    const instances = await workspaceInstances(ANALYTICS);
    expect(instances.map((i) => i.InstanceId)).toEqual([adopted]);
    const groups = await groupsOf(ANALYTICS);
    expect(groups.map((g) => tagsOf(g).OrgID)).toEqual([ORG.umbrella]);
    expect(instances[0]!.SecurityGroups?.map((g) => g.GroupId)).toEqual([groups[0]!.GroupId]);
    expect(await census()).toEqual([]);
    expect((await w().run(['plan'])).code).toBe(0);
  });
});
