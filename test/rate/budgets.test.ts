import { EC2ServiceException } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { InternalError } from '../../src/errors.js';
import type { Budgets } from '../../src/desired/model.js';
import { ec2Category, PUBLISHED_BUDGETS, RateBudgets } from '../../src/rate/budgets.js';
import { concurrencyLimit, mapSettled } from '../../src/rate/concurrency.js';
import { createRateGate } from '../../src/rate/gate.js';
import { SlidingWindowLimiter } from '../../src/rate/sliding-window.js';
import { TokenBucket } from '../../src/rate/token-bucket.js';
import { JumpingClock, ManualClock } from './clocks.js';

describe('ec2Category (notes/limits.md §1)', () => {
  it.each([
    ['RunInstances', 'runInstances'],
    ['StartInstances', 'runInstances'],
    ['TerminateInstances', 'terminateInstances'],
    ['AuthorizeSecurityGroupIngress', 'authorizeIngress'],
    ['RevokeSecurityGroupIngress', 'authorizeIngress'],
    ['DescribeInstances', 'describe'],
    ['DescribeSecurityGroups', 'describe'],
    ['CreateSecurityGroup', 'mutate'],
    ['DeleteSecurityGroup', 'mutate'],
    ['StopInstances', 'mutate'],
    ['ModifyInstanceAttribute', 'mutate'],
    ['CreateTags', 'mutate'],
  ])('%s → %s', (action, category) => {
    expect(ec2Category(action)).toBe(category);
  });
});

describe('RateBudgets', () => {
  it('sizes each EC2 action’s own bucket from its category', () => {
    const budgets = new RateBudgets(PUBLISHED_BUDGETS, new ManualClock());
    const size = (action: string) => {
      const b = budgets.forAws('123456789012', 'eu-west-1', 'ec2', action) as TokenBucket;
      expect(b).toBeInstanceOf(TokenBucket);
      return [b.capacity, b.refillPerSecond];
    };
    // One token of each published burst is kept in reserve (clientBurst).
    expect(size('RunInstances')).toEqual([4, 2]);
    expect(size('TerminateInstances')).toEqual([99, 5]);
    expect(size('AuthorizeSecurityGroupIngress')).toEqual([49, 5]);
    expect(size('DescribeInstances')).toEqual([99, 20]);
    expect(size('CreateSecurityGroup')).toEqual([49, 5]);
  });

  it('keys limiters by account, region and API', () => {
    const budgets = new RateBudgets(PUBLISHED_BUDGETS, new ManualClock());
    const a = budgets.forAws('111', 'eu-west-1', 'ec2', 'CreateSecurityGroup');
    expect(budgets.forAws('111', 'eu-west-1', 'ec2', 'CreateSecurityGroup')).toBe(a);
    // EC2 evaluates every action in its own bucket, even within a category.
    expect(budgets.forAws('111', 'eu-west-1', 'ec2', 'DeleteSecurityGroup')).not.toBe(a);
    expect(budgets.forAws('222', 'eu-west-1', 'ec2', 'CreateSecurityGroup')).not.toBe(a);
    expect(budgets.forAws('111', 'us-east-1', 'ec2', 'CreateSecurityGroup')).not.toBe(a);
    // Secrets Manager and SSM publish combined quotas: one bucket per account and region.
    const sm = budgets.forAws('111', 'eu-west-1', 'secretsmanager', 'CreateSecret');
    expect(budgets.forAws('111', 'eu-west-1', 'secretsmanager', 'DeleteSecret')).toBe(sm);
    expect(budgets.forAws('111', 'eu-west-1', 'ssm', 'SendCommand')).not.toBe(sm);
  });

  it('gives every Cloudflare account one sliding window from the budget', () => {
    const budgets = new RateBudgets(PUBLISHED_BUDGETS, new ManualClock());
    const cf = budgets.forCloudflare('acc1') as SlidingWindowLimiter;
    expect(cf).toBeInstanceOf(SlidingWindowLimiter);
    expect([cf.limit, cf.windowMs]).toEqual([1200, 300_000]);
    expect(budgets.forCloudflare('acc1')).toBe(cf);
    expect(budgets.forCloudflare('acc2')).not.toBe(cf);
  });

  it('uses fleet.yaml overrides', () => {
    const custom: Budgets = {
      ...PUBLISHED_BUDGETS,
      ec2: { ...PUBLISHED_BUDGETS.ec2, runInstances: { perSecond: 6, burst: 15 } },
      cloudflare: { requests: 100, windowSeconds: 60 },
    };
    const budgets = new RateBudgets(custom, new ManualClock());
    const run = budgets.forAws('1', 'r', 'ec2', 'RunInstances') as TokenBucket;
    expect([run.capacity, run.refillPerSecond]).toEqual([14, 6]);
    const cf = budgets.forCloudflare('a') as SlidingWindowLimiter;
    expect([cf.limit, cf.windowMs]).toEqual([100, 60_000]);
  });
});

describe('createRateGate', () => {
  const tiny: Budgets = {
    ...PUBLISHED_BUDGETS,
    ec2: { ...PUBLISHED_BUDGETS.ec2, runInstances: { perSecond: 1, burst: 1 } },
    cloudflare: { requests: 2, windowSeconds: 10 },
  };

  it('takes a token before each attempt, including retries after throttling', async () => {
    const clock = new JumpingClock(0);
    const gate = createRateGate({
      budgets: new RateBudgets(tiny, clock),
      awsAccount: '1',
      region: 'r',
      cloudflareAccountId: 'a',
      retry: { clock, random: () => 0, baseDelayMs: 10 },
    });
    let calls = 0;
    const run = async () => {
      calls++;
      if (calls === 2) throw new EC2ServiceException({ name: 'RequestLimitExceeded', $fault: 'client', $metadata: {}, message: 'slow down' });
      return calls;
    };
    expect(await gate.aws('ec2', 'RunInstances', run)).toBe(1);
    // Second call: waits 1 s for a token, is throttled, backs off 5 ms, then waits for the next token.
    expect(await gate.aws('ec2', 'RunInstances', run)).toBe(3);
    expect(clock.sleeps).toEqual([1000, 5, 995]);
  });

  it('paces Cloudflare calls through the account window and passes other errors through', async () => {
    const clock = new JumpingClock(0);
    const gate = createRateGate({ budgets: new RateBudgets(tiny, clock), awsAccount: '1', region: 'r', cloudflareAccountId: 'a', retry: { clock } });
    for (let i = 0; i < 3; i++) await gate.cloudflare('dns.records.create', async () => i);
    expect(clock.sleeps).toEqual([10_000]);
    const boom = new Error('validation failed');
    await expect(
      gate.cloudflare('dns.records.create', async () => {
        throw boom;
      }),
    ).rejects.toBe(boom);
  });
});

describe('concurrency', () => {
  it('keeps at most n tasks in flight and settles every item in input order', async () => {
    let inFlight = 0;
    let peak = 0;
    const release: (() => void)[] = [];
    const settled = mapSettled([1, 2, 3, 4, 5], 2, async (n) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise<void>((r) => release.push(r));
      inFlight--;
      if (n === 3) throw new Error('tenant 3 failed');
      return n * 10;
    });
    let done = false;
    void settled.then(() => (done = true));
    while (!done) {
      await new Promise((r) => setImmediate(r));
      release.shift()?.();
    }
    const results = await settled;
    expect(peak).toBe(2);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([10, 20, 'tenant 3 failed', 40, 50]);
  });

  it('rejects a non-positive concurrency', () => {
    expect(() => concurrencyLimit(0)).toThrow(InternalError);
    expect(() => concurrencyLimit(1.5)).toThrow(InternalError);
  });
});
