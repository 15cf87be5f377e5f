/** The estimate of time left: monotone in the work remaining, and converging to the real pace. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_BUDGETS } from '../../src/desired/defaults.js';
import { estimateRemainingMs, estimateRolloutMs, fitWaves, formatDuration, priorMsPerAction } from '../../src/render/eta.js';

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
    // SSM 5/s: one SendCommand per 50 and ~1 GetCommandInvocation per redeploy.
    expect(prior).toBeCloseTo(((1 / 50 + 1) / 5) * 1000);
    expect(priorMsPerAction(DEFAULT_BUDGETS, 'apply')).toBe(500);
    expect(estimateRemainingMs({ remaining: 100, done: 0, elapsedMs: 0, priorMsPerAction: prior })).toBeCloseTo(100 * prior);
    const errors = [0, 5, 50, 500].map((done) => Math.abs(estimateRemainingMs({ remaining: 100, done, elapsedMs: done * 1000, priorMsPerAction: prior }) - 100 * 1000));
    for (let i = 1; i < errors.length; i++) expect(errors[i]!).toBeLessThan(errors[i - 1]!);
  });

  it('formats durations for a status line', () => {
    expect([0, 12_400, 185_000, 3_720_000].map(formatDuration)).toEqual(['0s', '12s', '3m05s', '1h02m']);
  });
});

describe('estimateRolloutMs', () => {
  const wave = fc.record({ actions: fc.integer({ min: 1, max: 2_000 }), durationMs: fc.integer({ min: 0, max: 600_000 }) });
  const prior = fc.record({ overheadMs: fc.integer({ min: 0, max: 60_000 }), msPerAction: fc.integer({ min: 0, max: 5_000 }) });

  it('is monotone in the work remaining (more actions in a pending wave, or one more wave)', () => {
    fc.assert(
      fc.property(
        fc.array(wave, { maxLength: 5 }),
        fc.array(fc.integer({ min: 0, max: 2_000 }), { minLength: 1, maxLength: 5 }),
        prior,
        fc.integer({ min: 0, max: 2_000 }),
        (finished, pending, p, more) => {
          const base = estimateRolloutMs({ finished, pending, prior: p });
          expect(estimateRolloutMs({ finished, pending: [pending[0]! + more, ...pending.slice(1)], prior: p })).toBeGreaterThanOrEqual(base);
          expect(estimateRolloutMs({ finished, pending: [...pending, more], prior: p })).toBeGreaterThanOrEqual(base);
          expect(base).toBeGreaterThanOrEqual(0);
        },
      ),
    );
  });

  it('converges to the real waves: waves that cost overhead + pace × actions are predicted exactly once two sizes are seen', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 30_000 }),
        fc.integer({ min: 1, max: 1_000 }),
        fc.uniqueArray(fc.integer({ min: 1, max: 1_000 }), { minLength: 2, maxLength: 4 }),
        fc.array(fc.integer({ min: 1, max: 1_000 }), { minLength: 1, maxLength: 4 }),
        prior,
        (overhead, pace, sizes, pending, p) => {
          const finished = sizes.map((n) => ({ actions: n, durationMs: overhead + pace * n }));
          const real = pending.reduce((s, n) => s + overhead + pace * n, 0);
          expect(Math.abs(estimateRolloutMs({ finished, pending, prior: p }) - real)).toBeLessThanOrEqual(real * 1e-6 + 1);
        },
      ),
    );
  });

  it('a small canary wave alone does not make a large wave look proportionally longer: it measures the overhead, the budgets give the pace', () => {
    expect(fitWaves([{ actions: 1, durationMs: 6_000 }], { overheadMs: 5_000, msPerAction: 400 })).toEqual({ overheadMs: 5_600, msPerAction: 400 });
    // The running wave counts what is left of it.
    expect(estimateRolloutMs({ finished: [], current: { actions: 10, elapsedMs: 4_000 }, pending: [], prior: { overheadMs: 1_000, msPerAction: 500 } })).toBe(2_000);
  });
});
