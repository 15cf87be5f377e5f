import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InternalError } from '../../src/errors.js';
import { SlidingWindowLimiter } from '../../src/rate/sliding-window.js';
import { TokenBucket } from '../../src/rate/token-bucket.js';
import { ManualClock } from './clocks.js';

describe('TokenBucket', () => {
  it('lets a burst through, then paces at the refill rate (RunInstances 5 burst, 2/s)', () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(5, 2, clock);
    const waits = Array.from({ length: 8 }, () => bucket.reserve());
    expect(waits).toEqual([0, 0, 0, 0, 0, 500, 1000, 1500]);
  });

  it('refills with elapsed time but never above capacity', async () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(3, 1, clock);
    for (let i = 0; i < 3; i++) bucket.reserve();
    await clock.advance(60_000);
    expect([bucket.reserve(), bucket.reserve(), bucket.reserve(), bucket.reserve()]).toEqual([0, 0, 0, 1000]);
  });

  it('serves waiting callers in the order they asked', async () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(1, 10, clock);
    const order: number[] = [];
    const all = Array.from({ length: 6 }, (_, i) => bucket.take().then(() => order.push(i)));
    await clock.advance(1000);
    await Promise.all(all);
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
    expect(clock.sleeps).toEqual([100, 200, 300, 400, 500]);
  });

  it('takes several tokens at once and refuses more than it can ever hold', () => {
    const bucket = new TokenBucket(4, 2, new ManualClock());
    expect(bucket.reserve(3)).toBe(0);
    expect(bucket.reserve(3)).toBe(1000);
    expect(() => bucket.reserve(5)).toThrow(InternalError);
    expect(() => new TokenBucket(0, 1)).toThrow(InternalError);
    expect(() => new TokenBucket(1, 0)).toThrow(InternalError);
    expect(() => new SlidingWindowLimiter(0, 1000)).toThrow(InternalError);
  });

  it('never grants more than capacity + rate × interval in any interval (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.integer({ min: 0, max: 2000 }), { minLength: 1, maxLength: 60 }),
        (capacity, rate, gaps) => {
          const clock = new ManualClock(0);
          const bucket = new TokenBucket(capacity, rate, clock);
          const grants: number[] = [];
          let t = 0;
          for (const gap of gaps) {
            t += gap;
            clock.setNow(t);
            grants.push(t + bucket.reserve());
          }
          for (let i = 1; i < grants.length; i++) expect(grants[i]!).toBeGreaterThanOrEqual(grants[i - 1]!);
          for (let i = 0; i < grants.length; i++) {
            for (let j = i; j < grants.length; j++) {
              const allowed = capacity + (rate * (grants[j]! - grants[i]!)) / 1000;
              // +1: a grant is rounded up to the next whole millisecond.
              expect(j - i + 1).toBeLessThanOrEqual(Math.floor(allowed + 1e-9) + 1);
            }
          }
        },
      ),
    );
  });
});

describe('SlidingWindowLimiter', () => {
  it('allows `limit` requests at once, then waits for the oldest to leave the window', async () => {
    const clock = new ManualClock();
    const limiter = new SlidingWindowLimiter(3, 1000, clock);
    expect([limiter.reserve(), limiter.reserve(), limiter.reserve(), limiter.reserve()]).toEqual([0, 0, 0, 1000]);
    await clock.advance(500);
    expect(limiter.reserve()).toBe(500);
    expect(limiter.reserve()).toBe(500);
    expect(limiter.reserve()).toBe(1500);
  });

  it('take(n) waits for the last of the n grants', async () => {
    const clock = new ManualClock();
    const limiter = new SlidingWindowLimiter(2, 1000, clock);
    let done = false;
    const p = limiter.take(3).then(() => (done = true));
    await clock.advance(999);
    expect(done).toBe(false);
    await clock.advance(1);
    await p;
    expect(done).toBe(true);
  });

  it('never lets more than `limit` requests into any window (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 15 }),
        fc.integer({ min: 1, max: 5000 }),
        fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 1, maxLength: 80 }),
        (limit, windowMs, gaps) => {
          const clock = new ManualClock(0);
          const limiter = new SlidingWindowLimiter(limit, windowMs, clock);
          const grants: number[] = [];
          let t = 0;
          for (const gap of gaps) {
            t += gap;
            clock.setNow(t);
            const wait = limiter.reserve();
            expect(wait).toBeGreaterThanOrEqual(0);
            grants.push(t + wait);
          }
          for (let i = 1; i < grants.length; i++) expect(grants[i]!).toBeGreaterThanOrEqual(grants[i - 1]!);
          for (let i = limit; i < grants.length; i++) expect(grants[i]! - grants[i - limit]!).toBeGreaterThanOrEqual(windowMs);
        },
      ),
    );
  });
});
