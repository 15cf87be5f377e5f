/**
 * The session's per-account parts (src/cli/cloud-session.ts): the canary account has its own
 * clients (CANARY_REGION, assumed credentials through the standard endpoint) and its own rate
 * buckets, keyed by its account id and region, so exhausting them never slows the main account —
 * as at AWS, where the limits are per account and region. End to end, the fault proxy enforces a
 * limit per account and region; the canary's throttling leaves the main account's calls alone.
 */
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloudSessionFactory } from '../../src/cli/cloud-session.js';
import { DEFAULT_BUDGETS } from '../../src/desired/defaults.js';
import { virtualClock } from '../apply/harness.js';
import { startAwsEmulator, type AwsEmulator } from '../support/aws.js';
import { startCanaryAccount, type CanaryAccount } from '../support/canary-account.js';

const budgets = { ...DEFAULT_BUDGETS, ec2: { ...DEFAULT_BUDGETS.ec2, describe: { perSecond: 1, burst: 3 } } };
const cloudflare = { apiToken: 't', accountId: '0a1b2c3d4e5f60718293a4b5c6d7e8f9', zoneId: 'f9e8d7c6b5a4938271605f4e3d2c1b0a' };

describe('the canary account in a session', () => {
  let aws: AwsEmulator;
  let canary: CanaryAccount;
  beforeAll(async () => {
    aws = await startAwsEmulator();
    canary = await startCanaryAccount(aws);
  });
  afterAll(async () => {
    canary?.close();
    await aws?.close();
  });

  it('has its own rate buckets: an exhausted canary budget does not make a main call wait', async () => {
    const clock = virtualClock();
    const session = cloudSessionFactory(aws.env)({
      region: aws.region,
      budgets,
      cloudflare,
      clock,
      canary: { roleArn: canary.roleArn, region: canary.region, sessionName: 'tenantform-dev' },
    });
    try {
      const call = () => Promise.resolve(1);
      const start = clock.now();
      for (let i = 0; i < 12; i++) await session.canary!.gate.aws('ec2', 'DescribeInstances', call);
      const afterCanary = clock.now();
      // 12 calls at 1/s with a burst of 2 kept by the client: the canary waited about 10 s.
      expect(afterCanary - start).toBeGreaterThanOrEqual(9000);
      for (let i = 0; i < 2; i++) await session.gate.aws('ec2', 'DescribeInstances', call);
      expect(clock.now()).toBe(afterCanary);
      await session.canary!.gate.aws('ec2', 'DescribeInstances', call);
      expect(clock.now()).toBeGreaterThan(afterCanary);
    } finally {
      session.close();
    }
  });

  it('reaches the canary account with assumed credentials through AWS_ENDPOINT_URL, STS included', async () => {
    const session = cloudSessionFactory(aws.env)({
      region: aws.region,
      budgets,
      cloudflare,
      canary: { roleArn: canary.roleArn, region: canary.region, sessionName: 'tenantform-dev' },
    });
    try {
      await session.canary!.ready();
      await session.canary!.readers.ec2.describeInstances({ MaxResults: 5 });
      const sts = aws.calls.filter((c) => c.service === 'sts' && c.action === 'AssumeRole');
      expect(sts.map((c) => c.params.RoleSessionName)).toContain('tenantform-dev');
      // Marked as tenantform's own calls, so the IAM record check sees sts:AssumeRole.
      expect(sts.every((c) => c.product)).toBe(true);
      expect(aws.calls.filter((c) => c.action === 'DescribeInstances').map((c) => c.account)).toEqual([canary.accountId]);
    } finally {
      session.close();
    }
  });

  it('the emulator enforces limits per account and region: a throttled canary leaves main calls unthrottled', async () => {
    const rule = aws.faults.inject({ kind: 'rateLimit', service: 'ec2', action: 'DescribeInstances', perSecond: 0.01, burst: 1 });
    const main = aws.clients({ maxAttempts: 1 });
    try {
      await canary.check.ec2.send(new DescribeInstancesCommand({ MaxResults: 5 }));
      await expect(canary.check.ec2.send(new DescribeInstancesCommand({ MaxResults: 5 }))).rejects.toMatchObject({ name: 'RequestLimitExceeded' });
      await main.ec2.send(new DescribeInstancesCommand({ MaxResults: 5 }));
      // The check client retries its throttled call: every throttled answer went to the canary account.
      const throttled = aws.calls.filter((c) => c.fault === 'rateLimit').map((c) => c.account);
      expect(throttled.length).toBeGreaterThan(0);
      expect(new Set(throttled)).toEqual(new Set([canary.accountId]));
      const mainCalls = aws.calls.filter((c) => c.action === 'DescribeInstances' && c.account === aws.accountId);
      expect(mainCalls.map((c) => [c.status, c.fault])).toEqual([[200, undefined]]);
      expect(rule.hits).toBe(throttled.length);
    } finally {
      rule.remove();
    }
  });
});
