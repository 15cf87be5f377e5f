/** The estimate of time left: monotone in the work remaining, and converging to the real pace. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_BUDGETS } from '../../src/desired/defaults.js';
import { estimateRemainingMs, formatDuration, priorMsPerAction } from '../../src/render/eta.js';

const input = fc.record({
  remaining: fc.integer({ min: 0, max: 100_000 }),
  done: fc.integer({ min: 0, max: 100_000 }),
  elapsedMs: fc.integer({ min: 0, max: 10_000_000 }),
  priorMsPerAction: fc.integer({ min: 0, max: 10_000 }),
  priorWeight: fc.integer({ min: 0, max: 50 }),
});

describe('estimateRemainingMs', () => {
  it('is monotone in the work remaining', () => {
    fc.assert(
      fc.property(input, fc.integer({ min: 0, max: 100_000 }), (i, more) => {
        expect(estimateRemainingMs({ ...i, remaining: i.remaining + more })).toBeGreaterThanOrEqual(estimateRemainingMs(i));
      }),
    );
  });

  it('is zero when nothing remains, and never negative', () => {
    fc.assert(
      fc.property(input, (i) => {
        expect(estimateRemainingMs({ ...i, remaining: 0 })).toBe(0);
        expect(estimateRemainingMs(i)).toBeGreaterThanOrEqual(0);
      }),
    );
  });

  it('converges to the real pace: within 1% once done is 100x the prior weight, whatever the prior', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5_000 }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 20 }),
        (paceMs, prior, remaining, weight) => {
          const done = weight * 100;
          const eta = estimateRemainingMs({ remaining, done, elapsedMs: done * paceMs, priorMsPerAction: prior, priorWeight: weight });
          const real = remaining * paceMs;
          expect(Math.abs(eta - real)).toBeLessThanOrEqual(real * 0.01 + (prior * remaining) / 100);
        },
      ),
    );
  });

  it('starts from the budgets alone, then moves toward the pace as actions settle', () => {
    const prior = priorMsPerAction(DEFAULT_BUDGETS, 'rollout');
    // SSM 5/s: one SendCommand per 50 and ~2 GetCommandInvocation per redeploy.
    expect(prior).toBeCloseTo(((1 / 50 + 2) / 5) * 1000);
    expect(priorMsPerAction(DEFAULT_BUDGETS, 'apply')).toBe(500);
    expect(estimateRemainingMs({ remaining: 100, done: 0, elapsedMs: 0, priorMsPerAction: prior })).toBeCloseTo(100 * prior);
    const errors = [0, 5, 50, 500].map((done) => Math.abs(estimateRemainingMs({ remaining: 100, done, elapsedMs: done * 1000, priorMsPerAction: prior }) - 100 * 1000));
    for (let i = 1; i < errors.length; i++) expect(errors[i]!).toBeLessThan(errors[i - 1]!);
  });

  it('formats durations for a status line', () => {
    expect([0, 12_400, 185_000, 3_720_000].map(formatDuration)).toEqual(['0s', '12s', '3m05s', '1h02m']);
  });
});
