/** apply's progress output per mode: live line on a terminal, plain lines in CI, JSON lines with --json. */
import { describe, expect, it } from 'vitest';
import type { ProgressEvent } from '../../src/app/ports.js';
import type { ActionResult } from '../../src/apply/changeset.js';
import { ProgressTracker, progressWriter, statusLine, type ProgressMode } from '../../src/cli/progress.js';
import { DEFAULT_BUDGETS } from '../../src/desired/defaults.js';
import { rolloutPrior } from '../../src/render/eta.js';
import { scaledBudgets } from '../../bench/scaled-limits.js';

function result(slug: string, wave: number, status: ActionResult['status']): ActionResult {
  return {
    actionId: `redeploy:tenant:${slug}`,
    kind: 'redeploy',
    target: { kind: 'tenant', orgId: `org-${slug}`, slug },
    wave,
    status,
    ...(status === 'failed' ? { error: 'health check http://127.0.0.1/x failed after 3 attempts (10 s): last saw HTTP 503' } : {}),
    resources: [],
    durationMs: 10,
  };
}

/** A rollout of 1 canary and 3 others in 2 waves; `b` fails. */
function events(): ProgressEvent[] {
  return [
    { kind: 'note', message: 'hello' },
    { kind: 'executing', actions: 4, budgets: DEFAULT_BUDGETS },
    {
      kind: 'wave',
      event: {
        kind: 'rolloutPlanned',
        waves: [
          { wave: 0, actions: 1 },
          { wave: 1, actions: 3 },
        ],
      },
    },
    { kind: 'wave', event: { kind: 'waveStarted', wave: 0, actions: 1 } },
    { kind: 'result', result: result('c', 0, 'ok') },
    { kind: 'wave', event: { kind: 'waveFinished', result: { wave: 0, actions: 1, failed: 0, failureRatio: 0, halted: false }, durationMs: 2000 } },
    { kind: 'wave', event: { kind: 'waveStarted', wave: 1, actions: 3 } },
    { kind: 'result', result: result('a', 1, 'ok') },
    { kind: 'result', result: result('b', 1, 'failed') },
    { kind: 'result', result: result('d', 1, 'ok') },
    { kind: 'wave', event: { kind: 'waveFinished', result: { wave: 1, actions: 3, failed: 1, failureRatio: 1 / 3, halted: true, unhealthy: 1 }, durationMs: 4000 } },
  ];
}

function run(mode: ProgressMode): string {
  const out: string[] = [];
  let t = 0;
  const w = progressWriter(mode, (s) => out.push(s), new ProgressTracker(() => (t += 1000)));
  for (const e of events()) w.write(e);
  w.finish();
  return out.join('');
}

describe('apply progress', () => {
  it('plain (CI, no terminal): one line per wave and per failure, nothing redrawn', () => {
    const text = run('plain');
    expect(text).not.toContain('\r');
    expect(text.split('\n').filter(Boolean)).toEqual([
      'note: hello',
      expect.stringMatching(/^wave 0: 1\/1 ok, 0 failed, 2s; rollout wave 0 \(2 waves\): 1 done, 0 failed, 3 remaining, ~\d+s left$/),
      expect.stringMatching(/^✗ redeploy tenant b .*: health check .* last saw HTTP 503$/),
      expect.stringMatching(/^wave 1: 2\/3 ok, 1 failed, 1 unhealthy, 4s — rollout halted; rollout wave 1 \(2 waves\): 4 done, 1 failed, 0 remaining, ~0s left$/),
    ]);
  });

  it('json: every progress event a JSON line on its own, with counts and an estimate', () => {
    const lines = run('json').split('\n').filter(Boolean);
    expect(lines[0]).toBe('note: hello');
    const parsed = lines.slice(1).map((l) => JSON.parse(l) as { event: string; remaining?: number; etaMs?: number; line?: string });
    expect(parsed.map((p) => p.event).filter((e) => e !== 'progress')).toEqual([
      'executing',
      'rolloutPlanned',
      'waveStarted',
      'result',
      'waveFinished',
      'waveStarted',
      'result',
      'result',
      'result',
      'waveFinished',
    ]);
    const progress = parsed.filter((p) => p.event === 'progress');
    expect(progress.map((p) => p.remaining)).toEqual([4, 4, 4, 3, 3, 3, 2, 1, 0, 0]);
    expect(progress.every((p) => typeof p.etaMs === 'number' && p.etaMs >= 0)).toBe(true);
    expect(parsed.find((p) => p.line?.startsWith('✗ redeploy tenant b'))).toBeDefined();
  });

  it('live: one status line redrawn in place, failures and wave ends printed above it, cleared at the end', () => {
    const text = run('live');
    expect(text).toContain('\r\x1b[2Krollout wave 1 (2 waves): 3 done, 1 failed, 1 remaining');
    expect(text).toContain('\r\x1b[2K✗ redeploy tenant b');
    expect(text.endsWith('\r\x1b[2K')).toBe(true);
    // Every permanent line starts on a cleared line, so nothing is interleaved with the status line.
    const permanent = text.split('\n').slice(1, -1);
    expect(permanent.every((l) => l.startsWith('\r\x1b[2K'))).toBe(true);
  });

  it('the status line names the phase, the counts and the time left', () => {
    expect(statusLine({ phase: 'apply', done: 3, failed: 1, remaining: 7, etaMs: 65_000 })).toBe('apply: 3 done, 1 failed, 7 remaining, ~1m05s left');
  });
});

describe('the estimate the progress line shows during a rollout', () => {
  it('learns a wave once its actions settled, before its held results come out: at 10% of 1,000 it extrapolates the pace seen', () => {
    let t = 0;
    const tracker = new ProgressTracker(() => t);
    const feed = (e: ProgressEvent) => tracker.observe(e);
    const wave = (event: Extract<ProgressEvent, { kind: 'wave' }>['event']) => feed({ kind: 'wave', event });
    feed({ kind: 'executing', actions: 1000, budgets: scaledBudgets(5) });
    wave({
      kind: 'rolloutPlanned',
      waves: [
        { wave: 0, actions: 1 },
        { wave: 1, actions: 250 },
        { wave: 2, actions: 749 },
      ],
    });
    // bench:rollout's figures: the canary 0.3 s, the 250-wave 15.4 s (~62 ms per action, the budget says 41).
    wave({ kind: 'waveStarted', wave: 0, actions: 1 });
    t = 300;
    expect(wave({ kind: 'waveProgress', wave: 0, settled: 1, failed: 0 })).toBe(false);
    feed({ kind: 'result', result: result('c', 0, 'ok') });
    wave({ kind: 'waveFinished', result: { wave: 0, actions: 1, failed: 0, failureRatio: 0, halted: false }, durationMs: 300 });
    wave({ kind: 'waveStarted', wave: 1, actions: 250 });
    for (let i = 1; i <= 250; i++) {
      t = 300 + (15_400 * i) / 250;
      wave({ kind: 'waveProgress', wave: 1, settled: i, failed: 0 });
    }
    for (let i = 0; i < 99; i++) feed({ kind: 'result', result: result(`t${i}`, 1, 'ok') });
    const at10 = tracker.snapshot();
    expect(at10).toMatchObject({ phase: 'rollout', wave: 1, done: 100, remaining: 900 });
    // The rest really took 47.4 s (wave 2); the budgets alone said ~30 s.
    expect(Math.abs(at10.etaMs - 47_400)).toBeLessThanOrEqual(47_400 * 0.05);
  });

  it('a health gate counts apart from the commands: the time after the gate began is the gate’s', () => {
    let t = 0;
    const tracker = new ProgressTracker(() => t);
    const wave = (event: Extract<ProgressEvent, { kind: 'wave' }>['event']) => tracker.observe({ kind: 'wave', event });
    tracker.observe({ kind: 'executing', actions: 33, budgets: { ...DEFAULT_BUDGETS, concurrency: 16 } });
    wave({
      kind: 'rolloutPlanned',
      waves: [
        { wave: 0, actions: 1 },
        { wave: 1, actions: 32 },
      ],
    });
    wave({ kind: 'waveStarted', wave: 0, actions: 1 });
    t = 200;
    wave({ kind: 'waveChecking', wave: 0, settled: 1, failed: 0, tenants: 1 });
    t = 1_200;
    tracker.observe({ kind: 'result', result: result('c', 0, 'ok') });
    wave({ kind: 'waveFinished', result: { wave: 0, actions: 1, failed: 0, failureRatio: 0, halted: false, unhealthy: 0 }, durationMs: 1_200 });
    // Wave 1 of 32 (past the burst) at the budget's pace, then 2 rounds of 1 s of checks.
    const prior = rolloutPrior({ ...DEFAULT_BUDGETS, concurrency: 16 });
    const expected = 200 + prior.msPerAction * (32 - prior.burstActions!) + 2 * 1_000;
    expect(tracker.snapshot().etaMs).toBeCloseTo(expected, -1);
  });
});

describe('the live line within a wave', () => {
  it('is redrawn as the wave’s actions settle, its estimate counting down, though no count changed', () => {
    let t = 0;
    const out: string[] = [];
    const w = progressWriter('live', (s) => out.push(s), new ProgressTracker(() => t));
    w.write({ kind: 'executing', actions: 100, budgets: DEFAULT_BUDGETS });
    w.write({ kind: 'wave', event: { kind: 'rolloutPlanned', waves: [{ wave: 0, actions: 100 }] } });
    w.write({ kind: 'wave', event: { kind: 'waveStarted', wave: 0, actions: 100 } });
    const lines = () => out.filter((s) => s.includes('rollout wave 0'));
    const before = lines().length;
    t = 5_000;
    w.write({ kind: 'wave', event: { kind: 'waveProgress', wave: 0, settled: 50, failed: 0 } });
    t = 10_000;
    w.write({ kind: 'wave', event: { kind: 'waveProgress', wave: 0, settled: 100, failed: 0 } });
    const drawn = lines().slice(before);
    expect(drawn).toHaveLength(2);
    const eta = (line: string) => Number(/~(\d+)s left/.exec(line)?.[1] ?? NaN);
    expect(drawn.every((l) => l.includes('0 done, 0 failed, 100 remaining'))).toBe(true);
    expect(eta(drawn[1]!)).toBeLessThan(eta(drawn[0]!));
  });
});
