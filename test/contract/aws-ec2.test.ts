/**
 * EC2 contract: the calls tenantform makes, against moto through the fault proxy, with the
 * official SDK client — first as they behave normally, then with each relevant fault injected.
 */
import {
  AssociateIamInstanceProfileCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateTagsCommand,
  CreateSecurityGroupCommand,
  DeleteSecurityGroupCommand,
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  DescribeVolumesCommand,
  DescribeVolumesModificationsCommand,
  DisassociateIamInstanceProfileCommand,
  ModifyInstanceAttributeCommand,
  ModifyVolumeCommand,
  paginateDescribeInstances,
  ReplaceIamInstanceProfileAssociationCommand,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  type EC2Client,
  type Instance,
  type RunInstancesCommandInput,
} from '@aws-sdk/client-ec2';
import { CreateInstanceProfileCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAwsEmulator, type AwsEmulator } from '../support/aws.js';

let aws: AwsEmulator;
let ec2: EC2Client;

beforeAll(async () => {
  aws = await startAwsEmulator();
  ec2 = aws.clients().ec2;
});
afterAll(async () => {
  await aws?.close();
});

function launch(overrides: Partial<RunInstancesCommandInput> = {}): RunInstancesCommandInput {
  return { ImageId: aws.seed.ami, InstanceType: 't3.small', MinCount: 1, MaxCount: 1, SubnetId: aws.seed.subnetId, ...overrides };
}

async function instancesTagged(key: string, value: string, states = ['pending', 'running', 'stopping', 'stopped', 'shutting-down']): Promise<Instance[]> {
  const found: Instance[] = [];
  const pages = paginateDescribeInstances(
    { client: ec2, pageSize: 1000 },
    {
      Filters: [
        { Name: `tag:${key}`, Values: [value] },
        { Name: 'instance-state-name', Values: states },
      ],
    },
  );
  for await (const page of pages) for (const r of page.Reservations ?? []) found.push(...(r.Instances ?? []));
  return found;
}

async function stateOf(instanceId: string): Promise<string | undefined> {
  const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  return out.Reservations?.[0]?.Instances?.[0]?.State?.Name;
}

describe('RunInstances', () => {
  it('applies instance and volume tags, user data, volume size and the instance profile', async () => {
    const script = '#!/bin/bash\necho "fetch bundle tenant/acme"\n';
    const run = await ec2.send(
      new RunInstancesCommand(
        launch({
          UserData: Buffer.from(script).toString('base64'),
          IamInstanceProfile: { Name: aws.seed.instanceProfileName },
          BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: 30, VolumeType: 'gp3', DeleteOnTermination: true } }],
          TagSpecifications: [
            {
              ResourceType: 'instance',
              Tags: [
                { Key: 'ManagedBy', Value: 'tenantform' },
                { Key: 'OrgSlug', Value: 'acme' },
              ],
            },
            { ResourceType: 'volume', Tags: [{ Key: 'OrgSlug', Value: 'acme' }] },
          ],
        }),
      ),
    );
    const instance = run.Instances![0]!;
    expect(instance.State?.Name).toBe('pending');
    expect(instance.IamInstanceProfile?.Arn).toContain(`:${aws.accountId}:instance-profile/${aws.seed.instanceProfileName}`);

    const userData = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: instance.InstanceId!, Attribute: 'userData' }));
    expect(Buffer.from(userData.UserData!.Value!, 'base64').toString()).toBe(script);

    const volumes = await ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [instance.InstanceId!] }] }));
    expect(volumes.Volumes?.map((v) => v.Size)).toEqual([30]);
    expect(volumes.Volumes?.[0]?.Tags).toEqual([{ Key: 'OrgSlug', Value: 'acme' }]);

    const tagged = await instancesTagged('OrgSlug', 'acme');
    expect(tagged.map((i) => i.InstanceId)).toEqual([instance.InstanceId]);
    expect(tagged[0]!.Tags).toEqual(expect.arrayContaining([{ Key: 'ManagedBy', Value: 'tenantform' }]));
  });

  it('refuses an instance profile that does not exist (moto answers NoSuchEntity)', async () => {
    await expect(ec2.send(new RunInstancesCommand(launch({ IamInstanceProfile: { Name: 'nope' } })))).rejects.toMatchObject({ name: 'NoSuchEntity' });
  });
});

describe('IAM instance profile associations', () => {
  const profileOf = async (id: string) => (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations?.[0]?.Instances?.[0]?.IamInstanceProfile;
  const associationsOf = async (id: string) =>
    (await ec2.send(new DescribeIamInstanceProfileAssociationsCommand({ Filters: [{ Name: 'instance-id', Values: [id] }] }))).IamInstanceProfileAssociations ?? [];
  let other = '';
  beforeAll(async () => {
    other = `other-${Date.now()}`;
    await aws.clients().iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: other }));
  });

  it('disassociate, then associate: the instance shows no profile, then the new one; a second association is IncorrectState', async () => {
    const id = (await ec2.send(new RunInstancesCommand(launch({ IamInstanceProfile: { Name: aws.seed.instanceProfileName } })))).Instances![0]!.InstanceId!;
    const [first] = await associationsOf(id);
    expect(first).toMatchObject({ InstanceId: id, State: 'associated' });
    await ec2.send(new DisassociateIamInstanceProfileCommand({ AssociationId: first!.AssociationId }));
    expect(await profileOf(id)).toBeUndefined();
    expect(await associationsOf(id)).toEqual([]);
    const made = await ec2.send(new AssociateIamInstanceProfileCommand({ InstanceId: id, IamInstanceProfile: { Name: aws.seed.instanceProfileName } }));
    expect(made.IamInstanceProfileAssociation?.State).toBe('associating');
    expect((await profileOf(id))?.Arn).toMatch(new RegExp(`:instance-profile/${aws.seed.instanceProfileName}$`));
    await expect(ec2.send(new AssociateIamInstanceProfileCommand({ InstanceId: id, IamInstanceProfile: { Name: other } }))).rejects.toMatchObject({
      name: 'IncorrectState',
    });
    await expect(ec2.send(new AssociateIamInstanceProfileCommand({ InstanceId: id, IamInstanceProfile: { Name: 'nope' } }))).rejects.toMatchObject({
      name: 'NoSuchEntity',
    });
  });

  it('replace moves the instance itself to the new profile under a new association id, as on AWS (moto alone leaves the instance on the old one)', async () => {
    for (const faithful of [true, false]) {
      aws.faults.faithful.profileReplacement = faithful;
      try {
        const id = (await ec2.send(new RunInstancesCommand(launch({ IamInstanceProfile: { Name: aws.seed.instanceProfileName } })))).Instances![0]!.InstanceId!;
        const [old] = await associationsOf(id);
        const replaced = await ec2.send(new ReplaceIamInstanceProfileAssociationCommand({ AssociationId: old!.AssociationId, IamInstanceProfile: { Name: other } }));
        const [now] = await associationsOf(id);
        expect(now?.IamInstanceProfile?.Arn).toMatch(new RegExp(`:instance-profile/${other}$`));
        if (faithful) {
          expect(replaced.IamInstanceProfileAssociation?.AssociationId).not.toBe(old!.AssociationId);
          expect(now?.AssociationId).toBe(replaced.IamInstanceProfileAssociation?.AssociationId);
          expect((await profileOf(id))?.Arn).toMatch(new RegExp(`:instance-profile/${other}$`));
        } else {
          expect(replaced.IamInstanceProfileAssociation?.AssociationId).toBe(old!.AssociationId);
          expect((await profileOf(id))?.Arn).toMatch(new RegExp(`:instance-profile/${aws.seed.instanceProfileName}$`));
        }
        await expect(
          ec2.send(new ReplaceIamInstanceProfileAssociationCommand({ AssociationId: 'iip-assoc-00000000000000000', IamInstanceProfile: { Name: other } })),
        ).rejects.toMatchObject({ name: 'InvalidAssociationID.NotFound' });
      } finally {
        aws.faults.faithful.profileReplacement = true;
      }
    }
  });
});

describe('DescribeInstances pagination', () => {
  it('pages by reservation with tag filters and finds all 12 instances over 3 pages of 5', async () => {
    // 10 single-instance reservations plus one of 2: moto pages by reservation, as noted.
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        ec2.send(
          new RunInstancesCommand(
            launch({
              TagSpecifications: [
                {
                  ResourceType: 'instance',
                  Tags: [
                    { Key: 'Batch', Value: 'paging' },
                    { Key: 'N', Value: String(i) },
                  ],
                },
              ],
            }),
          ),
        ),
      ),
    );
    await ec2.send(
      new RunInstancesCommand(launch({ MinCount: 2, MaxCount: 2, TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Batch', Value: 'paging' }] }] })),
    );
    const pageSizes: number[] = [];
    for await (const page of paginateDescribeInstances({ client: ec2, pageSize: 5 }, { Filters: [{ Name: 'tag:Batch', Values: ['paging'] }] })) {
      pageSizes.push((page.Reservations ?? []).length);
    }
    expect(pageSizes).toEqual([5, 5, 1]);
    expect(await instancesTagged('Batch', 'paging')).toHaveLength(12);
  });

  it('stops at 100 reservations without MaxResults (so always paginate); MaxResults 1000 returns all 105', async () => {
    const own = await startAwsEmulator();
    try {
      const { ec2: client } = own.clients();
      const launchOne = () => client.send(new RunInstancesCommand({ ImageId: own.seed.ami, MinCount: 1, MaxCount: 1 }));
      for (let wave = 0; wave < 21; wave++) await Promise.all(Array.from({ length: 5 }, launchOne));
      const unbounded = await client.send(new DescribeInstancesCommand({}));
      expect([unbounded.Reservations?.length, Boolean(unbounded.NextToken)]).toEqual([100, true]);
      const bounded = await client.send(new DescribeInstancesCommand({ MaxResults: 1000 }));
      expect([bounded.Reservations?.length, bounded.NextToken]).toEqual([105, undefined]);
    } finally {
      await own.close();
    }
  });

  it('rejects MaxResults outside 5–1000 like AWS, and accepts 1000', async () => {
    await expect(ec2.send(new DescribeInstancesCommand({ MaxResults: 2 }))).rejects.toMatchObject({ name: 'InvalidParameterValue' });
    await expect(ec2.send(new DescribeInstancesCommand({ MaxResults: 1001 }))).rejects.toMatchObject({ name: 'InvalidParameterValue' });
    await expect(ec2.send(new DescribeInstancesCommand({ MaxResults: 1000 }))).resolves.toHaveProperty('Reservations');
  });
});

describe('CreateTags', () => {
  it('refuses an instance id the account does not hold (InvalidInstanceID.NotFound, as AWS; moto answers 200), and tags one it holds', async () => {
    const tag = { Key: 'Image', Value: 'ghcr.io/example/platform:2' };
    await expect(ec2.send(new CreateTagsCommand({ Resources: ['i-0123456789abcdef0'], Tags: [tag] }))).rejects.toMatchObject({ name: 'InvalidInstanceID.NotFound' });
    const run = await ec2.send(new RunInstancesCommand(launch()));
    const id = run.Instances![0]!.InstanceId!;
    await expect(ec2.send(new CreateTagsCommand({ Resources: [id, 'i-0123456789abcdef0'], Tags: [tag] }))).rejects.toMatchObject({ name: 'InvalidInstanceID.NotFound' });
    await ec2.send(new CreateTagsCommand({ Resources: [id], Tags: [tag] }));
    const described = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
    expect(described.Reservations![0]!.Instances![0]!.Tags).toContainEqual(tag);
    aws.faults.faithful.unknownInstanceTags = false;
    try {
      await expect(ec2.send(new CreateTagsCommand({ Resources: ['i-0123456789abcdef0'], Tags: [tag] }))).resolves.toBeDefined();
    } finally {
      aws.faults.faithful.unknownInstanceTags = true;
    }
  });
});

describe('security groups', () => {
  it('authorizes a CIDR rule and a source-group rule', async () => {
    const sg = await ec2.send(
      new CreateSecurityGroupCommand({
        VpcId: aws.seed.vpcId,
        GroupName: 'tenant-acme',
        Description: 'tenant acme',
        TagSpecifications: [{ ResourceType: 'security-group', Tags: [{ Key: 'OrgSlug', Value: 'acme' }] }],
      }),
    );
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: sg.GroupId!,
        IpPermissions: [
          { IpProtocol: 'tcp', FromPort: 8080, ToPort: 8080, IpRanges: [{ CidrIp: aws.seed.vpcCidr, Description: 'platform' }] },
          { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, UserIdGroupPairs: [{ GroupId: aws.seed.eicSecurityGroupId, Description: 'eic' }] },
        ],
      }),
    );
    const described = await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'tag:OrgSlug', Values: ['acme'] }] }));
    const permissions = described.SecurityGroups![0]!.IpPermissions!;
    expect(permissions.find((p) => p.FromPort === 8080)?.IpRanges?.[0]?.CidrIp).toBe('10.20.0.0/16');
    expect(permissions.find((p) => p.FromPort === 22)?.UserIdGroupPairs?.[0]?.GroupId).toBe(aws.seed.eicSecurityGroupId);
    expect(permissions.flatMap((p) => p.IpRanges ?? []).some((r) => r.CidrIp === '0.0.0.0/0')).toBe(false);
  });

  it('refuses to delete a group a live or shutting-down instance uses (DependencyViolation), then deletes it', async () => {
    const defaultPolls = aws.faults.faithful.shuttingDownPolls;
    aws.faults.faithful.shuttingDownPolls = 2;
    try {
      const sg = await ec2.send(new CreateSecurityGroupCommand({ VpcId: aws.seed.vpcId, GroupName: 'in-use', Description: 'in use' }));
      const run = await ec2.send(new RunInstancesCommand(launch({ SecurityGroupIds: [sg.GroupId!] })));
      const id = run.Instances![0]!.InstanceId!;
      await expect(ec2.send(new DeleteSecurityGroupCommand({ GroupId: sg.GroupId! }))).rejects.toMatchObject({ name: 'DependencyViolation' });
      await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
      // Held in shutting-down: one refused delete, one describe, then it is terminated and the delete works.
      await expect(ec2.send(new DeleteSecurityGroupCommand({ GroupId: sg.GroupId! }))).rejects.toMatchObject({ name: 'DependencyViolation' });
      expect(await stateOf(id)).toBe('shutting-down');
      expect(await stateOf(id)).toBe('terminated');
      await ec2.send(new DeleteSecurityGroupCommand({ GroupId: sg.GroupId! }));
      await expect(ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [sg.GroupId!] }))).rejects.toMatchObject({ name: 'InvalidGroup.NotFound' });
    } finally {
      aws.faults.faithful.shuttingDownPolls = defaultPolls;
    }
  });

  it('lets moto delete a group in use when the correction is switched off', async () => {
    aws.faults.faithful.dependencyViolation = false;
    try {
      const sg = await ec2.send(new CreateSecurityGroupCommand({ VpcId: aws.seed.vpcId, GroupName: 'unguarded', Description: 'x' }));
      await ec2.send(new RunInstancesCommand(launch({ SecurityGroupIds: [sg.GroupId!] })));
      await expect(ec2.send(new DeleteSecurityGroupCommand({ GroupId: sg.GroupId! }))).resolves.toBeDefined();
    } finally {
      aws.faults.faithful.dependencyViolation = true;
    }
  });
});

describe('instance state transitions', () => {
  it('holds pending, stopping and shutting-down for the configured number of polls', async () => {
    const defaultPolls = aws.faults.faithful.pendingPolls;
    aws.faults.faithful.pendingPolls = 2;
    try {
      const id = (await ec2.send(new RunInstancesCommand(launch()))).Instances![0]!.InstanceId!;
      expect([await stateOf(id), await stateOf(id), await stateOf(id)]).toEqual(['pending', 'pending', 'running']);
      await ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
      expect([await stateOf(id), await stateOf(id)]).toEqual(['stopping', 'stopped']);
      const terminated = await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
      expect(terminated.TerminatingInstances?.[0]?.CurrentState?.Name).toBe('shutting-down');
      expect([await stateOf(id), await stateOf(id)]).toEqual(['shutting-down', 'terminated']);
      const again = await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
      expect(again.TerminatingInstances?.[0]?.CurrentState?.Name).toBe('terminated');
    } finally {
      aws.faults.faithful.pendingPolls = defaultPolls;
    }
  });

  it('in time mode, holds each transitional state for a span of wall time, polled or not', async () => {
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    aws.faults.faithful.transitionMs = 400;
    try {
      const id = (await ec2.send(new RunInstancesCommand(launch()))).Instances![0]!.InstanceId!;
      // Polls do not end the hold (the poll count is 1 here): only time does.
      expect([await stateOf(id), await stateOf(id), await stateOf(id)]).toEqual(['pending', 'pending', 'pending']);
      await sleep(600);
      expect(await stateOf(id)).toBe('running');
      await ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
      // Nobody polls while it stops; an observer that looks later sees it stopped.
      await sleep(600);
      expect(await stateOf(id)).toBe('stopped');
      await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
      expect([await stateOf(id), await stateOf(id)]).toEqual(['shutting-down', 'shutting-down']);
      await sleep(600);
      expect(await stateOf(id)).toBe('terminated');
    } finally {
      aws.faults.faithful.transitionMs = 0;
    }
  });

  it('shows a shutting-down instance to a state-filtered listing, and hides it from a filter without that state', async () => {
    const id = (await ec2.send(new RunInstancesCommand(launch({ TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Batch', Value: 'filter' }] }] }))))
      .Instances![0]!.InstanceId!;
    expect(await stateOf(id)).toBe('pending');
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    expect((await instancesTagged('Batch', 'filter', ['running'])).map((i) => i.InstanceId)).toEqual([]);
    const live = await instancesTagged('Batch', 'filter');
    expect(live.map((i) => [i.InstanceId, i.State?.Name])).toEqual([[id, 'shutting-down']]);
    expect(await instancesTagged('Batch', 'filter')).toEqual([]);
  });

  it('refuses to start a terminated instance and to resize a running one (IncorrectInstanceState)', async () => {
    const id = (await ec2.send(new RunInstancesCommand(launch()))).Instances![0]!.InstanceId!;
    await expect(ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: id, InstanceType: { Value: 't3.large' } }))).rejects.toMatchObject({
      name: 'IncorrectInstanceState',
    });
    await ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
    expect(await stateOf(id)).toBe('stopping');
    expect(await stateOf(id)).toBe('stopped');
    await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: id, InstanceType: { Value: 't3.large' } }));
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    await expect(ec2.send(new StartInstancesCommand({ InstanceIds: [id] }))).rejects.toMatchObject({ name: 'IncorrectInstanceState' });
  });
});

describe('injected EC2 faults', () => {
  it('RequestLimitExceeded: the SDK retries and succeeds; with the throttle outlasting its attempts, the error surfaces', async () => {
    const before = aws.calls.length;
    const brief = aws.faults.inject({ kind: 'throttle', service: 'ec2', action: 'DescribeVpcs', count: 2 });
    const { ec2: patient } = aws.clients({ maxAttempts: 3 });
    const { DescribeVpcsCommand } = await import('@aws-sdk/client-ec2');
    await expect(patient.send(new DescribeVpcsCommand({ VpcIds: [aws.seed.vpcId] }))).resolves.toHaveProperty('Vpcs');
    expect(brief.hits).toBe(2);
    const attempts = aws.calls.slice(before).filter((c) => c.action === 'DescribeVpcs');
    expect(attempts.map((c) => [c.status, c.errorCode])).toEqual([
      [503, 'RequestLimitExceeded'],
      [503, 'RequestLimitExceeded'],
      [200, undefined],
    ]);

    const endless = aws.faults.inject({ kind: 'throttle', service: 'ec2', action: 'DescribeVpcs' });
    try {
      await expect(patient.send(new DescribeVpcsCommand({}))).rejects.toMatchObject({ name: 'RequestLimitExceeded', $metadata: { attempts: 3 } });
    } finally {
      endless.remove();
    }
  });

  it('a 5xx is retried by the SDK; after N lets calls through first', async () => {
    const fault = aws.faults.inject({ kind: 'serverError', service: 'ec2', action: 'DescribeSubnets', after: 1, count: 1, status: 503 });
    const { DescribeSubnetsCommand } = await import('@aws-sdk/client-ec2');
    await ec2.send(new DescribeSubnetsCommand({ SubnetIds: [aws.seed.subnetId] }));
    expect(fault.hits).toBe(0);
    const out = await ec2.send(new DescribeSubnetsCommand({ SubnetIds: [aws.seed.subnetId] }));
    expect(out.Subnets).toHaveLength(1);
    expect(out.$metadata.attempts).toBe(2);
    expect(fault.hits).toBe(1);
  });

  it('a dropped connection is retried by the SDK, and surfaces once attempts run out', async () => {
    const once = aws.faults.inject({ kind: 'dropConnection', service: 'ec2', action: 'DescribeSecurityGroups', count: 1 });
    const out = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [aws.seed.eicSecurityGroupId] }));
    expect(out.$metadata.attempts).toBe(2);
    expect(once.hits).toBe(1);
    const always = aws.faults.inject({ kind: 'dropConnection', service: 'ec2', action: 'DescribeSecurityGroups' });
    try {
      await expect(ec2.send(new DescribeSecurityGroupsCommand({}))).rejects.toMatchObject({ code: 'ECONNRESET' });
    } finally {
      always.remove();
    }
  });

  it('a lost RunInstances response is retried with the same ClientToken: one instance with idempotency, two without', async () => {
    try {
      for (const idempotent of [true, false]) {
        aws.faults.faithful.clientTokenIdempotency = idempotent;
        const tag = `lost-${idempotent}`;
        const fault = aws.faults.inject({ kind: 'lostResponse', service: 'ec2', action: 'RunInstances', count: 1 });
        const run = await ec2.send(new RunInstancesCommand(launch({ TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Batch', Value: tag }] }] })));
        expect(fault.hits).toBe(1);
        expect(run.$metadata.attempts).toBe(2);
        expect(await instancesTagged('Batch', tag)).toHaveLength(idempotent ? 1 : 2);
      }
    } finally {
      aws.faults.faithful.clientTokenIdempotency = true;
    }
  });

  it('replays a ClientToken and rejects it with other parameters (IdempotentParameterMismatch)', async () => {
    const first = await ec2.send(new RunInstancesCommand(launch({ ClientToken: 'tenant-acme-1' })));
    const second = await ec2.send(new RunInstancesCommand(launch({ ClientToken: 'tenant-acme-1' })));
    expect(second.Instances?.[0]?.InstanceId).toBe(first.Instances?.[0]?.InstanceId);
    await expect(ec2.send(new RunInstancesCommand(launch({ ClientToken: 'tenant-acme-1', InstanceType: 't3.large' })))).rejects.toMatchObject({
      name: 'IdempotentParameterMismatch',
    });
  });

  it('forgets the ClientToken of a call that failed, as AWS does', async () => {
    await expect(ec2.send(new RunInstancesCommand(launch({ ClientToken: 'failed-first', IamInstanceProfile: { Name: 'nope' } })))).rejects.toMatchObject({
      name: 'NoSuchEntity',
    });
    const fixed = await ec2.send(new RunInstancesCommand(launch({ ClientToken: 'failed-first', IamInstanceProfile: { Name: aws.seed.instanceProfileName } })));
    expect(fixed.Instances?.[0]?.State?.Name).toBe('pending');
  });

  it('answers the DescribeInstances client-token filter (moto has none) from the launches it saw', async () => {
    const run = await ec2.send(new RunInstancesCommand(launch({ ClientToken: 'filter-me' })));
    const id = run.Instances![0]!.InstanceId!;
    const byToken = async (token: string, extra: Array<{ Name: string; Values: string[] }> = []) => {
      const out = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'client-token', Values: [token] }, ...extra], MaxResults: 1000 }));
      return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId);
    };
    expect(await byToken('filter-me')).toEqual([id]);
    expect(await byToken('filter-me', [{ Name: 'instance-state-name', Values: ['stopped'] }])).toEqual([]);
    expect(await byToken('never-used')).toEqual([]);
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    expect(await byToken('filter-me')).toEqual([id]);
  });

  it('a predicate narrows a fault to matching requests', async () => {
    const fault = aws.faults.inject({
      kind: 'throttle',
      service: 'ec2',
      action: 'DescribeInstances',
      when: (req) => req.form.get('InstanceId.1') === 'i-00000000000000000',
    });
    const { ec2: impatient } = aws.clients({ maxAttempts: 1 });
    await expect(impatient.send(new DescribeInstancesCommand({ InstanceIds: ['i-00000000000000000'] }))).rejects.toMatchObject({ name: 'RequestLimitExceeded' });
    await expect(impatient.send(new DescribeInstancesCommand({ MaxResults: 5 }))).resolves.toHaveProperty('Reservations');
    expect(fault.hits).toBe(1);
    fault.remove();
  });
});

describe('volume modifications (moto: completed at once, shrinks accepted)', () => {
  async function rootVolume(): Promise<string> {
    const run = await ec2.send(new RunInstancesCommand(launch({ BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: 30 } }] })));
    const id = run.Instances![0]!.InstanceId!;
    const out = await ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [id] }] }));
    return out.Volumes![0]!.VolumeId!;
  }
  const stateOfModification = async (volumeId: string) =>
    (await ec2.send(new DescribeVolumesModificationsCommand({ VolumeIds: [volumeId] }))).VolumesModifications!.at(-1)!.ModificationState;

  it('goes modifying → optimizing → completed, one poll each by default; refuses another modification meanwhile', async () => {
    const volumeId = await rootVolume();
    const modified = await ec2.send(new ModifyVolumeCommand({ VolumeId: volumeId, Size: 40 }));
    expect(modified.VolumeModification).toMatchObject({ ModificationState: 'modifying', OriginalSize: 30, TargetSize: 40 });
    await expect(ec2.send(new ModifyVolumeCommand({ VolumeId: volumeId, Size: 50 }))).rejects.toMatchObject({ name: 'IncorrectModificationState' });
    expect([await stateOfModification(volumeId), await stateOfModification(volumeId), await stateOfModification(volumeId)]).toEqual([
      'modifying',
      'optimizing',
      'completed',
    ]);
    expect((await ec2.send(new DescribeVolumesCommand({ VolumeIds: [volumeId] }))).Volumes![0]!.Size).toBe(40);
  });

  it('refuses a smaller size', async () => {
    const volumeId = await rootVolume();
    await expect(ec2.send(new ModifyVolumeCommand({ VolumeId: volumeId, Size: 20 }))).rejects.toMatchObject({ name: 'InvalidParameterValue' });
    expect((await ec2.send(new DescribeVolumesCommand({ VolumeIds: [volumeId] }))).Volumes![0]!.Size).toBe(30);
  });

  it('holds a state as long as configured (a stuck modification)', async () => {
    aws.faults.faithful.volumeModifyingPolls = 5;
    try {
      const volumeId = await rootVolume();
      await ec2.send(new ModifyVolumeCommand({ VolumeId: volumeId, Size: 40 }));
      const seen: string[] = [];
      for (let i = 0; i < 7; i++) seen.push((await stateOfModification(volumeId))!);
      expect(seen).toEqual(['modifying', 'modifying', 'modifying', 'modifying', 'modifying', 'optimizing', 'completed']);
    } finally {
      aws.faults.faithful.volumeModifyingPolls = 1;
    }
  });
});
