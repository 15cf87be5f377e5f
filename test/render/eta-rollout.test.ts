/**
 * The rollout's estimate of time left, by named scenario: what it got wrong at 1,000 tenants (the
 * figures are bench:rollout's), each with the fix that the scenario pins. The properties
 * (monotone, converging) are in eta.test.ts; these add the burst, the health gate and the
 * running wave whose actions have settled.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_INSTANCES_PER_SEND } from '../../src/apply/command.js';
import { FIRST_POLL_DELAY_MS as APPLY_FIRST_POLL_DELAY_MS } from '../../src/apply/poll.js';
import { DEFAULT_BUDGETS } from '../../src/desired/defaults.js';
import { estimateRolloutMs, FIRST_POLL_DELAY_MS, fitWaves, gateRoundMs, INSTANCES_PER_SEND, rolloutPrior, type WavePrior } from '../../src/render/eta.js';
import { scaledBudgets } from '../../bench/scaled-limits.js';

/** bench:rollout's budgets: the published limits × 5 (SSM 25/s, burst 10). */
const BENCH = rolloutPrior(scaledBudgets(5));
const within = (estimate: number, real: number, ratio: number) => expect(Math.abs(estimate - real)).toBeLessThanOrEqual(real * ratio);

describe('the budgets-only prior', () => {
  it('uses the constants apply paces by: 50 instances per SendCommand, the first poll pause', () => {
    expect(INSTANCES_PER_SEND).toBe(MAX_INSTANCES_PER_SEND);
    expect(FIRST_POLL_DELAY_MS).toBe(APPLY_FIRST_POLL_DELAY_MS);
  });

  it('a wave the SSM burst covers costs its fixed part only; past the burst, the budget paces each action', () => {
    // SSM 5/s, burst 10 (one token kept in reserve): 9 calls free, then (1/50 + 1) calls per action at 5/s.
    const p = rolloutPrior(DEFAULT_BUDGETS);
    expect(p.overheadMs).toBe(250);
    expect(p.burstActions).toBeCloseTo(9 / 1.02);
    expect(estimateRolloutMs({ finished: [], pending: [3], prior: p })).toBe(250);
    expect(estimateRolloutMs({ finished: [], pending: [100], prior: p })).toBeCloseTo(250 + (100 - 9 / 1.02) * 204);
  });
});

describe('named scenarios', () => {
  it('held results: at 10% of 1,000 the second wave is still "running" while its results come out; once its actions settled it is measured, so its pace (slower than the budget) is extrapolated', () => {
    // bench:rollout at 1,000 (load ~6 on 2 cores): waves 1 / 250 / 749 took 0.3 / 15.4 / 47.4 s.
    const prior = BENCH;
    const flushing = { actions: 250, elapsedMs: 15_400 };
    const finished = [{ actions: 1, durationMs: 300 }];
    // Before: the flushing wave was not measured, so the budgets' pace (40.8 ms) priced the 749: -35%.
    const before = estimateRolloutMs({ finished, current: flushing, pending: [749], prior });
    expect((before - 47_400) / 47_400).toBeLessThan(-0.3);
    // Now: its actions settled at 15.4 s, so the wave is a second measured size.
    const now = estimateRolloutMs({ finished, current: { ...flushing, commandsMs: 15_400 }, pending: [749], prior });
    within(now, 47_400, 0.05);
  });

  it('burst: a 25-action wave the burst partly covers does not understate the pace of a 74-action one (fitted past the burst)', () => {
    // bench:rollout at 100: waves 1 / 25 / 74 took 0.1 / 0.8 / 3.1 s; a plain line through the first two gave 2.2 s (-28%).
    const est = estimateRolloutMs({
      finished: [{ actions: 1, durationMs: 100 }],
      current: { actions: 25, elapsedMs: 800, commandsMs: 800 },
      pending: [74],
      prior: BENCH,
    });
    within(est, 3_100, 0.1);
    const plainLine = fitWaves(
      [
        { actions: 1, durationMs: 100 },
        { actions: 25, durationMs: 800 },
      ],
      { overheadMs: 250, msPerAction: BENCH.msPerAction },
    );
    expect(plainLine.overheadMs + plainLine.msPerAction * 74).toBeLessThan(3_100 * 0.75);
  });

  it('waves that a token bucket paces are predicted exactly once two sizes past the burst are measured', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 20_000 }),
        fc.integer({ min: 1, max: 500 }),
        fc.integer({ min: 0, max: 50 }),
        fc.uniqueArray(fc.integer({ min: 51, max: 1_000 }), { minLength: 2, maxLength: 4 }),
        fc.array(fc.integer({ min: 0, max: 2_000 }), { minLength: 1, maxLength: 4 }),
        (overhead, pace, burst, sizes, pending) => {
          const cost = (n: number) => overhead + pace * Math.max(0, n - burst);
          const prior: WavePrior = { overheadMs: 250, msPerAction: 40, burstActions: burst };
          const finished = sizes.map((n) => ({ actions: n, durationMs: cost(n) }));
          const real = pending.reduce((s, n) => s + cost(n), 0);
          expect(Math.abs(estimateRolloutMs({ finished, pending, prior }) - real)).toBeLessThanOrEqual(real * 1e-6 + 1);
        },
      ),
    );
  });

  it('health gates are serial: a wave of 749 checked 16 at a time costs 47 rounds of what a round cost the canary', () => {
    const finished = [{ actions: 1, durationMs: 700, gateMs: 400 }];
    expect(gateRoundMs(finished, 16)).toBe(400);
    const withGate = estimateRolloutMs({ finished, pending: [749], prior: BENCH, gateConcurrency: 16 });
    const withoutGate = estimateRolloutMs({ finished: [{ actions: 1, durationMs: 300 }], pending: [749], prior: BENCH, gateConcurrency: 16 });
    // The commands part is measured without the gate's share (300 ms, not 700), and the gate is priced by its rounds.
    expect(withGate - withoutGate).toBeCloseTo(47 * 400);
  });

  it('the running wave in its gate: what is left of it is what is left of its gate', () => {
    const finished = [{ actions: 4, durationMs: 3_000, gateMs: 2_000 }];
    // 4 tenants, 2 at a time: 2 rounds of 1 s. The running wave of 4 settled at 1.2 s and has been in its gate 0.5 s.
    const est = estimateRolloutMs({ finished, current: { actions: 4, elapsedMs: 1_700, commandsMs: 1_200 }, pending: [], prior: BENCH, gateConcurrency: 2 });
    expect(est).toBeCloseTo(1_500);
    // Not settled yet: its commands' remainder, then the whole gate.
    const unsettled = estimateRolloutMs({ finished, current: { actions: 4, elapsedMs: 500 }, pending: [], prior: BENCH, gateConcurrency: 2 });
    expect(unsettled).toBeCloseTo(1_000 - 500 + 2_000);
  });

  it('a canary wave with one-off costs (first connections) overstates the fixed cost until a second size is measured: bounded by that cost per wave left', () => {
    // bench:rollout at 10: waves 1 / 3 / 6 took 0.4 / 0.1 / 0.1 s; at 10% done only the canary is measured.
    const est = estimateRolloutMs({ finished: [{ actions: 1, durationMs: 400 }], pending: [3, 6], prior: BENCH });
    expect(est).toBeLessThanOrEqual(2 * 400);
    // Once the second wave is measured, its own cost replaces the canary's.
    const later = estimateRolloutMs({
      finished: [{ actions: 1, durationMs: 400 }],
      current: { actions: 3, elapsedMs: 100, commandsMs: 100 },
      pending: [6],
      prior: BENCH,
    });
    expect(later).toBeLessThanOrEqual(400);
  });

  it('stays monotone in the work remaining with a burst and a gate', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ actions: fc.integer({ min: 1, max: 2_000 }), durationMs: fc.integer({ min: 0, max: 600_000 }), gateMs: fc.integer({ min: 0, max: 60_000 }) }),
          {
            maxLength: 5,
          },
        ),
        fc.array(fc.integer({ min: 0, max: 2_000 }), { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 0, max: 50 }),
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 0, max: 2_000 }),
        (finished, pending, burst, concurrency, more) => {
          const prior: WavePrior = { overheadMs: 250, msPerAction: 40, burstActions: burst };
          const base = estimateRolloutMs({ finished, pending, prior, gateConcurrency: concurrency });
          expect(base).toBeGreaterThanOrEqual(0);
          expect(estimateRolloutMs({ finished, pending: [pending[0]! + more, ...pending.slice(1)], prior, gateConcurrency: concurrency })).toBeGreaterThanOrEqual(base);
          expect(estimateRolloutMs({ finished, pending: [...pending, more], prior, gateConcurrency: concurrency })).toBeGreaterThanOrEqual(base);
        },
      ),
    );
  });
});
