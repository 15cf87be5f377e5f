import { EC2ServiceException } from '@aws-sdk/client-ec2';
import { SecretsManagerServiceException } from '@aws-sdk/client-secrets-manager';
import { BadRequestError, RateLimitError } from 'cloudflare';
import { describe, expect, it } from 'vitest';
import { DeadlineExceeded } from '../../src/errors.js';
import { isThrottleError, retryAfterMs, withThrottleRetry, type RetryInfo } from '../../src/rate/throttle.js';
import { JumpingClock } from './clocks.js';

function awsError(name: string, status = 400): EC2ServiceException {
  return new EC2ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message: `${name} happened` });
}

function cloudflare429(retryAfter?: string): RateLimitError {
  const headers = new Headers(retryAfter === undefined ? {} : { 'retry-after': retryAfter });
  return new RateLimitError(429, { success: false, errors: [{ code: 971, message: 'Please wait and consider throttling your request speed' }] }, undefined, headers);
}

/** A call that throws the given errors in turn, then returns 'ok'. */
function failingThen(errors: unknown[]): { fn: () => Promise<string>; calls: () => number } {
  let calls = 0;
  return {
    fn: async () => {
      const e = errors[calls++];
      if (e !== undefined) throw e;
      return 'ok';
    },
    calls: () => calls,
  };
}

describe('isThrottleError', () => {
  it.each([
    ['EC2 RequestLimitExceeded', awsError('RequestLimitExceeded', 503), true],
    ['SSM ThrottlingException', awsError('ThrottlingException'), true],
    ['Throttling', awsError('Throttling'), true],
    ['TooManyRequestsException', awsError('TooManyRequestsException'), true],
    ['any AWS 429', awsError('SomethingNew', 429), true],
    ['SDK throttling flag', Object.assign(new Error('x'), { $retryable: { throttling: true } }), true],
    ['Cloudflare RateLimitError', cloudflare429('1'), true],
    ['Cloudflare 971 body code', new BadRequestError(400, { errors: [{ code: 971, message: 'wait' }] }, undefined, new Headers()), true],
    ['Cloudflare 400', new BadRequestError(400, { errors: [{ code: 1003, message: 'bad' }] }, undefined, new Headers()), false],
    ['LimitExceededException (a hard quota)', new SecretsManagerServiceException({ name: 'LimitExceededException', $fault: 'client', $metadata: {} }), false],
    ['InvalidParameterValue', awsError('InvalidParameterValue'), false],
    ['plain Error', new Error('boom'), false],
    ['a string', 'RequestLimitExceeded', false],
    ['null', null, false],
  ])('%s → %s', (_label, error, expected) => {
    expect(isThrottleError(error)).toBe(expected);
  });
});

describe('retryAfterMs', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it('reads seconds and HTTP dates from Cloudflare errors', () => {
    expect(retryAfterMs(cloudflare429('7'), now)).toBe(7000);
    expect(retryAfterMs(cloudflare429('Thu, 01 Jan 2026 00:00:30 GMT'), now)).toBe(30_000);
    expect(retryAfterMs(cloudflare429(), now)).toBeUndefined();
    expect(retryAfterMs(cloudflare429('soon'), now)).toBeUndefined();
  });
  it('prefers retry-after-ms, and reads AWS raw response headers', () => {
    const cf = new RateLimitError(429, {}, undefined, new Headers({ 'retry-after-ms': '250', 'retry-after': '9' }));
    expect(retryAfterMs(cf, now)).toBe(250);
    const aws = Object.assign(awsError('Throttling'), { $response: { statusCode: 400, headers: { 'retry-after': '3' }, body: undefined } });
    expect(retryAfterMs(aws, now)).toBe(3000);
  });
});

describe('withThrottleRetry', () => {
  it('retries throttling until the call succeeds, with growing backoff', async () => {
    const clock = new JumpingClock();
    const call = failingThen([awsError('RequestLimitExceeded', 503), awsError('RequestLimitExceeded', 503), awsError('ThrottlingException')]);
    const retries: RetryInfo[] = [];
    const result = await withThrottleRetry(call.fn, { clock, random: () => 0, baseDelayMs: 100, onRetry: (r) => retries.push(r) });
    expect(result).toBe('ok');
    expect(call.calls()).toBe(4);
    // Equal jitter with random()=0 is half of each exponential step: 100, 200, 400 → 50, 100, 200.
    expect(clock.sleeps).toEqual([50, 100, 200]);
    expect(retries.map((r) => [r.attempt, r.delayMs])).toEqual([
      [1, 50],
      [2, 100],
      [3, 200],
    ]);
  });

  it('keeps jittered delays within [step/2, step] and caps the step', async () => {
    const clock = new JumpingClock();
    const call = failingThen(Array.from({ length: 6 }, () => awsError('Throttling')));
    await withThrottleRetry(call.fn, { clock, random: () => 0.999, baseDelayMs: 100, maxDelayMs: 800 });
    expect(clock.sleeps).toEqual([100, 200, 400, 800, 800, 800]);
  });

  it("honours Cloudflare's retry-after even when it is longer than the backoff", async () => {
    const clock = new JumpingClock();
    const call = failingThen([cloudflare429('300')]);
    expect(await withThrottleRetry(call.fn, { clock, random: () => 0 })).toBe('ok');
    expect(clock.sleeps).toEqual([300_000]);
  });

  it('passes a non-throttle error through unchanged on the first attempt', async () => {
    const clock = new JumpingClock();
    const error = awsError('InvalidGroup.NotFound');
    const call = failingThen([error]);
    await expect(withThrottleRetry(call.fn, { clock })).rejects.toBe(error);
    expect(call.calls()).toBe(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('gives up with DeadlineExceeded, naming the operation and keeping the throttle as cause, only after maxWaitMs', async () => {
    const clock = new JumpingClock();
    const last = awsError('RequestLimitExceeded', 503);
    const fn = async (): Promise<never> => {
      throw last;
    };
    const err = await withThrottleRetry(fn, { clock, random: () => 0.5, maxWaitMs: 60_000, operation: 'ec2 RunInstances', resource: 'tenant acme' }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DeadlineExceeded);
    expect((err as Error).message).toMatch(/^ec2 RunInstances tenant acme: still throttled after \d+ attempts/);
    expect((err as Error).message).toContain('RequestLimitExceeded');
    expect((err as Error).cause).toBe(last);
    const waited = clock.sleeps.reduce((a, b) => a + b, 0);
    expect(waited).toBeLessThanOrEqual(60_000);
    expect(waited).toBeGreaterThan(30_000);
  });

  it('uses a caller-supplied throttle test', async () => {
    const clock = new JumpingClock();
    const call = failingThen([new Error('busy'), new Error('busy')]);
    const result = await withThrottleRetry(call.fn, { clock, isThrottle: (e) => (e as Error).message === 'busy' });
    expect(result).toBe('ok');
    expect(call.calls()).toBe(3);
  });
});
