/**
 * An apply and a cascade delete as an IAM user holding tenantform's policy, with moto's IAM
 * enforcement on (a dedicated moto server: `/moto-api/reset-auth 0` switches it on server-wide).
 *
 * What moto 5.2.5 evaluates (moto/iam/access_control.py, moto/core/responses.py): the signature
 * and the access key, and each statement's Effect and Action (wildcards, explicit Deny wins). For
 * EC2, Secrets Manager and SSM it authorises every request against Resource "*" (only IAM, STS,
 * S3 and SQS compute a resource ARN), and it evaluates Condition blocks with no request context:
 * no aws:ResourceTag, aws:RequestTag, aws:TagKeys, ec2:CreateAction or ssm:resourceTag values. So
 * the faithful policy, with ARNs and tag conditions, is not what moto can judge (the last test
 * shows what it makes of it); what it can judge is the action set. The apply runs with the
 * policy's "moto view": the same statements and actions, Resource "*", no conditions. That proves
 * every action an apply and a cascade delete make is granted, and that one missing is denied.
 *
 * The product talks to moto directly here, not through the fault proxy: moto checks the SigV4
 * signature, which covers the Host header the proxy rewrites.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeInstancesCommand, EC2Client, StopInstancesCommand, type Instance } from '@aws-sdk/client-ec2';
import { CreateAccessKeyCommand, CreateUserCommand, PutUserPolicyCommand, type IAMClient } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyCommand, applyCommandWith } from '../../src/cli/apply.js';
import type { CommandModule } from '../../src/cli/command.js';
import { loadCommands } from '../../src/cli/commands.js';
import { memoryIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { iamPolicy, type PolicyDocument } from '../../src/iam/policy.js';
import { virtualClock } from '../apply/harness.js';
import { startAwsEmulator, type AwsEmulator } from '../support/aws.js';
import { startCloudflareDouble, type CloudflareDouble } from '../support/cloudflare-double/index.js';
import { startMotoServer, type MotoServer } from '../support/moto.js';

const REPO_ROOT = new URL('../../', import.meta.url).pathname;
const ZONE = 'example.dev';
const ORG_GLOBEX = '5f0c6a52-3b1e-4c8e-9a57-2d41e8a0b002';
const ORG_UMBRELLA = '5f0c6a52-3b1e-4c8e-9a57-2d41e8a0b004';

/** The policy as moto can evaluate it: same actions, Resource "*", no Condition. */
function motoView(doc: PolicyDocument, drop: readonly string[] = []): string {
  return JSON.stringify({
    Version: doc.Version,
    Statement: doc.Statement.map((s) => ({ Sid: s.Sid, Effect: s.Effect, Action: s.Action.filter((a) => !drop.includes(a)), Resource: '*' })).filter(
      (s) => s.Action.length,
    ),
  });
}

interface Keys {
  accessKeyId: string;
  secretAccessKey: string;
}

describe('apply and cascade delete as an IAM user holding exactly the iam-policy actions (moto IAM enforcement)', () => {
  let moto: MotoServer;
  let aws: AwsEmulator;
  let cf: CloudflareDouble;
  let dir: string;
  const keys: Record<'deployer' | 'lacking' | 'faithful' | 'admin', Keys> = {} as never;
  let admin: EC2Client;

  beforeAll(async () => {
    moto = await startMotoServer();
    aws = await startAwsEmulator({ moto });
    cf = await startCloudflareDouble({ zoneName: ZONE });
    dir = mkdtempSync(join(tmpdir(), 'tenantform-iam-'));
    cpSync(join(REPO_ROOT, 'fleet.yaml'), join(dir, 'fleet.yaml'));
    cpSync(join(REPO_ROOT, 'tenants'), join(dir, 'tenants'), { recursive: true });
    // Users and keys are made before enforcement is on (moto counts no request until then).
    const iam: IAMClient = aws.clients().iam;
    const user = async (name: keyof typeof keys, policy: string) => {
      await iam.send(new CreateUserCommand({ UserName: `tf-${name}` }));
      await iam.send(new PutUserPolicyCommand({ UserName: `tf-${name}`, PolicyName: 'tenantform', PolicyDocument: policy }));
      const k = (await iam.send(new CreateAccessKeyCommand({ UserName: `tf-${name}` }))).AccessKey!;
      keys[name] = { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! };
    };
    await user('deployer', motoView(iamPolicy()));
    await user('lacking', motoView(iamPolicy(), ['ec2:TerminateInstances']));
    await user('faithful', JSON.stringify(iamPolicy()));
    await user('admin', JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }));
    admin = new EC2Client({ region: aws.region, endpoint: moto.url, credentials: keys.admin, maxAttempts: 1 });
    const on = await fetch(`${moto.url}/moto-api/reset-auth`, { method: 'POST', body: '0' });
    expect(on.ok).toBe(true);
  });

  afterAll(async () => {
    admin?.destroy();
    await Promise.all([aws?.close(), cf?.close()]);
    moto?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const apply = async (who: Keys) => {
    const env = {
      ...aws.env,
      ...cf.env,
      AWS_ENDPOINT_URL: moto.url,
      AWS_ACCESS_KEY_ID: who.accessKeyId,
      AWS_SECRET_ACCESS_KEY: who.secretAccessKey,
      SECRETS_ENCRYPTION_KEY: 'enc-0123456789abcdef0123456789abcdef',
      PROVISION_SHARED_SECRET: 'shared-0123456789abcdef0123456789abcdef',
      GHCR_PULL_TOKEN: 'ghcr-0123456789abcdef0123456789abcdef',
      CP_ADMIN_API_TOKEN: 'cpadmin-0123456789abcdef0123456789abcdef',
      CP_BASE_URL: 'https://cp.example.dev',
    };
    const io = memoryIo({ env, cwd: dir });
    const timed = applyCommandWith({ clock: virtualClock() });
    const args = ['apply', '--auto-approve'];
    const modules: CommandModule[] = (await loadCommands(args)).map((m) => (m === applyCommand ? timed : m));
    const code = await main([...args, '--db', join(dir, 'audit.db')], io, modules);
    return { code, stdout: io.out.join(''), stderr: io.err.join('') };
  };

  const live = async (orgId: string): Promise<Instance[]> => {
    const out = await admin.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: 'tag:OrgID', Values: [orgId] },
          { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
        ],
      }),
    );
    return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
  };

  it('enforcement is on: a user without the policy is denied', async () => {
    const stranger = new EC2Client({
      region: aws.region,
      endpoint: moto.url,
      credentials: { accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'x' },
      maxAttempts: 1,
    });
    await expect(stranger.send(new DescribeInstancesCommand({}))).rejects.toThrow(/not able to validate the provided access credentials/);
    stranger.destroy();
  });

  it('applies the example fleet, then cascade-deletes a removed tenant, with the policy actions only', async () => {
    const first = await apply(keys.deployer);
    expect(first.stderr).not.toMatch(/denied|not authorized|UnauthorizedOperation/i);
    expect(first.code).toBe(0);
    expect((await live(ORG_GLOBEX)).length).toBe(2);

    rmSync(join(dir, 'tenants', 'globex'), { recursive: true });
    const second = await apply(keys.deployer);
    expect(second.stderr).not.toMatch(/denied|not authorized|UnauthorizedOperation/i);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/✓ delete\s+tenant globex/);
    expect(await live(ORG_GLOBEX)).toEqual([]);
  });

  it('an action missing from the policy is denied: without ec2:TerminateInstances the cascade delete fails', async () => {
    rmSync(join(dir, 'tenants', 'umbrella'), { recursive: true });
    const res = await apply(keys.lacking);
    expect(res.code).toBe(4);
    expect(res.stdout + res.stderr).toMatch(/not authorized to perform: ec2:TerminateInstances/);
    expect((await live(ORG_UMBRELLA)).length).toBeGreaterThan(0);
  });

  it('what moto makes of the faithful policy: unconditioned reads pass, conditioned ARN-scoped statements never grant', async () => {
    const faithful = new EC2Client({ region: aws.region, endpoint: moto.url, credentials: keys.faithful, maxAttempts: 1 });
    const out = await faithful.send(new DescribeInstancesCommand({}));
    expect(out.Reservations).toBeDefined();
    const id = (await live(ORG_UMBRELLA))[0]!.InstanceId!;
    // On AWS this is granted (the instance is tagged ManagedBy=tenantform); moto cannot evaluate the tag condition.
    await expect(faithful.send(new StopInstancesCommand({ InstanceIds: [id] }))).rejects.toThrow(/not authorized to perform: ec2:StopInstances/);
    faithful.destroy();
  });
});
