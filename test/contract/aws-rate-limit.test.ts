/**
 * The proxy's server-side rate limit (fault kind 'rateLimit'): a token bucket over the matching
 * calls that answers EC2's RequestLimitExceeded when empty, as AWS does, so a client that paces
 * itself wrongly is seen being throttled.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { DescribeVpcsCommand } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAwsEmulator, type AwsEmulator } from '../support/aws.js';

describe('rateLimit fault', () => {
  let aws: AwsEmulator;
  beforeAll(async () => {
    aws = await startAwsEmulator();
  });
  afterAll(async () => {
    await aws?.close();
  });

  it('lets a burst through, throttles the rest without taking tokens, and refills over time', async () => {
    const { ec2 } = aws.clients({ maxAttempts: 1 });
    const limit = aws.faults.inject({ kind: 'rateLimit', service: 'ec2', action: 'DescribeVpcs', perSecond: 2, burst: 3 });
    const outcomes = await Promise.allSettled(Array.from({ length: 6 }, () => ec2.send(new DescribeVpcsCommand({}))));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(3);
    const errors = outcomes.flatMap((o) => (o.status === 'rejected' ? [(o.reason as { name?: string }).name] : []));
    expect(errors).toEqual(['RequestLimitExceeded', 'RequestLimitExceeded', 'RequestLimitExceeded']);
    expect(limit.hits).toBe(3);
    expect(aws.calls.filter((c) => c.action === 'DescribeVpcs' && c.fault === 'rateLimit' && c.status === 503)).toHaveLength(3);

    await sleep(600);
    await expect(ec2.send(new DescribeVpcsCommand({}))).resolves.toBeDefined();
    // Removed, the rule limits nothing any more: a fresh burst goes through whole.
    limit.remove();
    const after = await Promise.allSettled(Array.from({ length: 6 }, () => ec2.send(new DescribeVpcsCommand({}))));
    expect(after.every((o) => o.status === 'fulfilled')).toBe(true);
  });

  it('refuses a bucket without a rate or a burst', () => {
    expect(() => aws.faults.inject({ kind: 'rateLimit', action: 'RunInstances', perSecond: 0, burst: 5 })).toThrow(/perSecond > 0/);
  });
});
