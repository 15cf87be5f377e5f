/** Secrets Manager and SSM contract: the calls tenantform makes, normally and with faults injected. */
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  paginateListSecrets,
  PutSecretValueCommand,
  RestoreSecretCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { GetCommandInvocationCommand, ListCommandsCommand, SendCommandCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { RunInstancesCommand } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAwsEmulator, type AwsEmulator } from '../support/aws.js';

let aws: AwsEmulator;
let secrets: SecretsManagerClient;
let ssm: SSMClient;

beforeAll(async () => {
  aws = await startAwsEmulator();
  ({ secrets, ssm } = aws.clients());
});
afterAll(async () => {
  await aws?.close();
});

async function secretNamesTagged(key: string, value: string, includePlannedDeletion = false): Promise<string[]> {
  const names: string[] = [];
  const pages = paginateListSecrets(
    { client: secrets, pageSize: 2 },
    {
      IncludePlannedDeletion: includePlannedDeletion,
      Filters: [
        { Key: 'tag-key', Values: [key] },
        { Key: 'tag-value', Values: [value] },
      ],
    },
  );
  for await (const page of pages) names.push(...(page.SecretList ?? []).map((s) => s.Name!));
  return names.sort();
}

describe('Secrets Manager', () => {
  it('creates tagged secrets and lists them by tag over several pages', async () => {
    for (const slug of ['a', 'b', 'c', 'd', 'e']) {
      await secrets.send(
        new CreateSecretCommand({
          Name: `tenant/${slug}/bundle`,
          SecretString: `{"db":"${slug}"}`,
          Tags: [
            { Key: 'ManagedBy', Value: 'tenantform' },
            { Key: 'Env', Value: 'test' },
          ],
        }),
      );
    }
    await secrets.send(new CreateSecretCommand({ Name: 'other', SecretString: 'x', Tags: [{ Key: 'ManagedBy', Value: 'someone-else' }] }));
    expect(await secretNamesTagged('ManagedBy', 'tenantform')).toEqual(['tenant/a/bundle', 'tenant/b/bundle', 'tenant/c/bundle', 'tenant/d/bundle', 'tenant/e/bundle']);
  });

  it('schedules a deletion, refuses writes and re-creation like AWS, restores, and force-deletes', async () => {
    const name = 'tenant/sched/bundle';
    await secrets.send(new CreateSecretCommand({ Name: name, SecretString: 'v1', Tags: [{ Key: 'Batch', Value: 'sched' }] }));
    const scheduled = await secrets.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 7 }));
    expect(scheduled.DeletionDate!.getTime()).toBeGreaterThan(Date.now() + 6 * 86_400_000);
    expect(await secretNamesTagged('Batch', 'sched')).toEqual([]);
    expect(await secretNamesTagged('Batch', 'sched', true)).toEqual([name]);
    await expect(secrets.send(new GetSecretValueCommand({ SecretId: name }))).rejects.toMatchObject({ name: 'InvalidRequestException' });
    await expect(secrets.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'v2' }))).rejects.toMatchObject({ name: 'InvalidRequestException' });
    await expect(secrets.send(new CreateSecretCommand({ Name: name, SecretString: 'again' }))).rejects.toMatchObject({
      name: 'InvalidRequestException',
      message: expect.stringContaining('scheduled for deletion'),
    });

    await secrets.send(new RestoreSecretCommand({ SecretId: name }));
    expect((await secrets.send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe('v1');
    await secrets.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'v2' }));

    await secrets.send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true }));
    await expect(secrets.send(new DescribeSecretCommand({ SecretId: name }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(secrets.send(new CreateSecretCommand({ Name: name, SecretString: 'fresh' }))).resolves.toHaveProperty('ARN');
  });

  it('gives moto its own answers when the scheduled-deletion correction is off', async () => {
    aws.faults.faithful.scheduledSecretDeletion = false;
    try {
      await secrets.send(new CreateSecretCommand({ Name: 'raw/sched', SecretString: 'v1' }));
      await secrets.send(new DeleteSecretCommand({ SecretId: 'raw/sched', RecoveryWindowInDays: 7 }));
      await expect(secrets.send(new PutSecretValueCommand({ SecretId: 'raw/sched', SecretString: 'v2' }))).resolves.toHaveProperty('VersionId');
      await expect(secrets.send(new CreateSecretCommand({ Name: 'raw/sched', SecretString: 'x' }))).rejects.toMatchObject({ name: 'ResourceExistsException' });
    } finally {
      aws.faults.faithful.scheduledSecretDeletion = true;
    }
  });

  it('ThrottlingException: retried by the SDK until it succeeds, surfaced when it outlasts the attempts', async () => {
    const brief = aws.faults.inject({ kind: 'throttle', service: 'secretsmanager', action: 'DescribeSecret', count: 1 });
    await secrets.send(new CreateSecretCommand({ Name: 'throttled', SecretString: 'x' }));
    const out = await secrets.send(new DescribeSecretCommand({ SecretId: 'throttled' }));
    expect(out.$metadata.attempts).toBe(2);
    expect(brief.hits).toBe(1);
    const { secrets: impatient } = aws.clients({ maxAttempts: 1 });
    const endless = aws.faults.inject({ kind: 'throttle', service: 'secretsmanager', action: 'DescribeSecret' });
    try {
      await expect(impatient.send(new DescribeSecretCommand({ SecretId: 'throttled' }))).rejects.toMatchObject({
        name: 'ThrottlingException',
        $metadata: { httpStatusCode: 400 },
      });
    } finally {
      endless.remove();
    }
  });

  it('a lost CreateSecret response is retried with the same ClientRequestToken, which moto honours: created once', async () => {
    aws.faults.inject({ kind: 'lostResponse', service: 'secretsmanager', action: 'CreateSecret', count: 1 });
    const created = await secrets.send(new CreateSecretCommand({ Name: 'lost/create', SecretString: 'x' }));
    expect(created.$metadata.attempts).toBe(2);
    const attempts = aws.calls.filter((c) => c.action === 'CreateSecret' && c.params['Name'] === 'lost/create');
    expect(attempts.map((c) => [c.status, c.fault])).toEqual([
      [200, 'lostResponse'],
      [200, undefined],
    ]);
    expect(attempts[1]!.params['ClientRequestToken']).toBe(attempts[0]!.params['ClientRequestToken']);
    expect((await secrets.send(new DescribeSecretCommand({ SecretId: 'lost/create' }))).ARN).toBe(created.ARN);
  });
});

describe('SSM run command', () => {
  let instanceIds: string[];

  beforeAll(async () => {
    const { ec2 } = aws.clients();
    const run = await ec2.send(new RunInstancesCommand({ ImageId: aws.seed.ami, MinCount: 3, MaxCount: 3, SubnetId: aws.seed.subnetId }));
    instanceIds = run.Instances!.map((i) => i.InstanceId!);
  });

  async function send(ids: string[]): Promise<string> {
    const out = await ssm.send(new SendCommandCommand({ DocumentName: 'AWS-RunShellScript', InstanceIds: ids, Parameters: { commands: ['docker pull x'] } }));
    return out.Command!.CommandId!;
  }

  async function invocation(commandId: string, instanceId: string) {
    return ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId }));
  }

  it('reports Success per instance by default', async () => {
    const commandId = await send(instanceIds);
    for (const id of instanceIds) expect(await invocation(commandId, id)).toMatchObject({ Status: 'Success', ResponseCode: 0 });
  });

  it('fails or times out chosen instances, and holds InProgress for N polls first', async () => {
    const failed = aws.faults.ssm.fail({ instanceIds: [instanceIds[1]!] });
    const timedOut = aws.faults.ssm.fail({ instanceIds: [instanceIds[2]!], status: 'TimedOut' });
    const slow = aws.faults.ssm.holdInProgress({ polls: 2, instanceIds: [instanceIds[0]!, instanceIds[1]!] });
    const commandId = await send(instanceIds);

    expect((await invocation(commandId, instanceIds[0]!)).Status).toBe('InProgress');
    expect((await ssm.send(new ListCommandsCommand({ CommandId: commandId }))).Commands?.[0]?.Status).toBe('InProgress');
    expect(await invocation(commandId, instanceIds[0]!)).toMatchObject({ Status: 'Success', ResponseCode: 0 });

    expect((await invocation(commandId, instanceIds[1]!)).Status).toBe('InProgress');
    expect(await invocation(commandId, instanceIds[1]!)).toMatchObject({ Status: 'Failed', StatusDetails: 'Failed', ResponseCode: 1 });
    const timeout = await invocation(commandId, instanceIds[2]!);
    expect(timeout).toMatchObject({ Status: 'TimedOut', StatusDetails: 'ExecutionTimedOut' });
    expect(timeout.ResponseCode).not.toBe(0);
    expect((await ssm.send(new ListCommandsCommand({ CommandId: commandId }))).Commands?.[0]).toMatchObject({ Status: 'Failed', ErrorCount: 2 });

    for (const rule of [failed, timedOut, slow]) rule.remove();
    expect((await invocation(commandId, instanceIds[1]!)).Status).toBe('Success');
  });

  it('throttled SendCommand surfaces ThrottlingException to a client without retries', async () => {
    const fault = aws.faults.inject({ kind: 'throttle', service: 'ssm', action: 'SendCommand', count: 1 });
    const { ssm: impatient } = aws.clients({ maxAttempts: 1 });
    await expect(
      impatient.send(new SendCommandCommand({ DocumentName: 'AWS-RunShellScript', InstanceIds: instanceIds, Parameters: { commands: ['true'] } })),
    ).rejects.toMatchObject({
      name: 'ThrottlingException',
    });
    expect(fault.hits).toBe(1);
  });
});
