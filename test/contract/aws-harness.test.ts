/** The emulator harness itself: account isolation, seeding, the call log and the onCall hook. */
import { DescribeInstancesCommand, DescribeVpcsCommand, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { GetInstanceProfileCommand } from '@aws-sdk/client-iam';
import { CreateSecretCommand, ListSecretsCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAwsEmulator, type AwsEmulator } from '../support/aws.js';

let first: AwsEmulator;
let second: AwsEmulator;

beforeAll(async () => {
  [first, second] = await Promise.all([startAwsEmulator(), startAwsEmulator()]);
});
afterAll(async () => {
  await Promise.all([first?.close(), second?.close()]);
});

describe('startAwsEmulator', () => {
  it('seeds a VPC, subnet, instance profile, EIC security group and AMI and exports them as env', async () => {
    const { ec2, iam } = first.clients();
    const vpcs = await ec2.send(new DescribeVpcsCommand({ VpcIds: [first.seed.vpcId] }));
    expect(vpcs.Vpcs?.[0]?.CidrBlock).toBe('10.20.0.0/16');
    const profile = await iam.send(new GetInstanceProfileCommand({ InstanceProfileName: first.seed.instanceProfileName }));
    expect(profile.InstanceProfile?.Arn).toContain(first.accountId);
    expect(first.seed.ami).toMatch(/^ami-/);
    expect(first.env).toMatchObject({
      AWS_ENDPOINT_URL: first.endpoint,
      AWS_REGION: 'us-east-2',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      EC2_VPC_ID: first.seed.vpcId,
      EC2_SUBNET_ID: first.seed.subnetId,
      EC2_TENANT_IAM_PROFILE: first.seed.instanceProfileName,
      EIC_ENDPOINT_SG_ID: first.seed.eicSecurityGroupId,
      EC2_AMI: first.seed.ami,
    });
  });

  it("gives each emulator its own account: neither sees the other one's instances or secrets", async () => {
    expect(first.accountId).not.toBe(second.accountId);
    const a = first.clients();
    const b = second.clients();
    const run = await a.ec2.send(new RunInstancesCommand({ ImageId: first.seed.ami, MinCount: 1, MaxCount: 1, SubnetId: first.seed.subnetId }));
    expect(run.OwnerId).toBe(first.accountId);
    await a.secrets.send(new CreateSecretCommand({ Name: 'isolated', SecretString: 'x' }));
    const mine = await a.ec2.send(new DescribeInstancesCommand({ MaxResults: 5 }));
    const theirs = await b.ec2.send(new DescribeInstancesCommand({ MaxResults: 5 }));
    expect(mine.Reservations?.flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId)).toEqual([run.Instances![0]!.InstanceId]);
    expect(theirs.Reservations ?? []).toEqual([]);
    expect((await b.secrets.send(new ListSecretsCommand({}))).SecretList ?? []).toEqual([]);
    expect((await a.secrets.send(new ListSecretsCommand({}))).SecretList?.map((s) => s.Name)).toEqual(['isolated']);
  });

  it('records every call with service, action, status and whether it mutates', async () => {
    const { ec2, secrets } = second.clients();
    const before = second.calls.length;
    await ec2.send(new DescribeVpcsCommand({}));
    await secrets.send(new ListSecretsCommand({}));
    await expect(secrets.send(new CreateSecretCommand({ Name: 'rec', SecretString: 'x' }))).resolves.toHaveProperty('ARN');
    await expect(secrets.send(new CreateSecretCommand({ Name: 'rec', SecretString: 'x' }))).rejects.toMatchObject({ name: 'ResourceExistsException' });
    const recorded = second.calls.slice(before).map(({ service, action, status, mutating, errorCode }) => ({ service, action, status, mutating, errorCode }));
    expect(recorded).toEqual([
      { service: 'ec2', action: 'DescribeVpcs', status: 200, mutating: false, errorCode: undefined },
      { service: 'secretsmanager', action: 'ListSecrets', status: 200, mutating: false, errorCode: undefined },
      { service: 'secretsmanager', action: 'CreateSecret', status: 200, mutating: true, errorCode: undefined },
      { service: 'secretsmanager', action: 'CreateSecret', status: 400, mutating: true, errorCode: 'ResourceExistsException' },
    ]);
    expect(second.calls.every((c, i) => c.seq === i + 1 && c.startedAt > 0)).toBe(true);
  });

  it('runs onCall hooks before forwarding, and stops after unsubscribing', async () => {
    const { ec2 } = first.clients();
    const seen: string[] = [];
    const unsubscribe = first.onCall(async (call) => {
      seen.push(`${call.action}:${call.status}`);
      await new Promise((r) => setTimeout(r, 5));
    });
    await ec2.send(new DescribeVpcsCommand({}));
    unsubscribe();
    await ec2.send(new DescribeVpcsCommand({}));
    // status 0 proves the hook ran before moto answered.
    expect(seen).toEqual(['DescribeVpcs:0']);
  });
});
