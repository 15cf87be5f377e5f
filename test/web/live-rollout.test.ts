/**
 * The running apply's waves as serve keeps them for /rollout: apply's progress events folded into
 * per-wave counts and gate states (src/web/live-rollout.ts), and the page they render (reloading
 * itself only while the rollout runs). The end to end check in a browser is rollout-browser.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { ProgressEvent } from '../../src/app/ports.js';
import type { ActionResult } from '../../src/changeset/model.js';
import { DEFAULT_BUDGETS } from '../../src/desired/defaults.js';
import { LiveRollout } from '../../src/web/live-rollout.js';
import { renderRollout } from '../../src/web/pages/rollout.js';
import { HOSTILE, HOSTILE_ESCAPED } from './fixtures.js';

const AT = new Date('2026-12-01T17:00:00.000Z');

function result(slug: string, wave: number, status: ActionResult['status']): ActionResult {
  return { actionId: `redeploy:tenant:${slug}`, kind: 'redeploy', target: { kind: 'tenant', orgId: `org-${slug}`, slug }, wave, status, resources: [], durationMs: 5 };
}

const wave = (event: Extract<ProgressEvent, { kind: 'wave' }>['event']): ProgressEvent => ({ kind: 'wave', event });

/** A canary, then a wave of 3 whose gate is still polling. */
const upToWaveOneGate: ProgressEvent[] = [
  { kind: 'note', message: 'hello' },
  { kind: 'executing', actions: 5, budgets: DEFAULT_BUDGETS },
  wave({
    kind: 'rolloutPlanned',
    waves: [
      { wave: 0, actions: 1 },
      { wave: 1, actions: 3 },
      { wave: 2, actions: 1 },
    ],
  }),
  wave({ kind: 'waveStarted', wave: 0, actions: 1 }),
  wave({ kind: 'waveProgress', wave: 0, settled: 1, failed: 0 }),
  wave({ kind: 'waveChecking', wave: 0, settled: 1, failed: 0, tenants: 1 }),
  { kind: 'result', result: result('c', 0, 'ok') },
  wave({ kind: 'waveFinished', result: { wave: 0, actions: 1, failed: 0, failureRatio: 0, halted: false, unhealthy: 0 }, durationMs: 1_500 }),
  wave({ kind: 'waveStarted', wave: 1, actions: 3 }),
  wave({ kind: 'waveProgress', wave: 1, settled: 1, failed: 0 }),
  wave({ kind: 'waveProgress', wave: 1, settled: 2, failed: 1 }),
  wave({ kind: 'waveProgress', wave: 1, settled: 3, failed: 1 }),
  wave({ kind: 'waveChecking', wave: 1, settled: 3, failed: 1, tenants: 2 }),
];

function fold(events: ProgressEvent[], live = new LiveRollout()): LiveRollout {
  for (const e of events) live.observe(e, AT);
  return live;
}

describe('the live rollout fold', () => {
  it('mid-rollout: the canary wave done with its gate passed, wave 1 settled and its gate polling, wave 2 pending', () => {
    const v = fold(upToWaveOneGate).current()!;
    expect(v).toMatchObject({ state: 'running', phase: 'rollout', wave: 1, done: 1, failed: 0, remaining: 4, startedAt: AT.toISOString() });
    expect(v.waves).toEqual([
      { wave: 0, targets: 1, done: 1, failed: 0, remaining: 0, state: 'done', gate: 'passed', unhealthy: 0, durationMs: 1_500 },
      { wave: 1, targets: 3, done: 3, failed: 1, remaining: 0, state: 'running', gate: 'checking', checking: 2 },
      { wave: 2, targets: 1, done: 0, failed: 0, remaining: 1, state: 'pending', gate: 'none' },
    ]);
  });

  it('a wave whose gate failed halts the rollout: the waves after it are not run, and the job outcome ends it', () => {
    const live = fold([
      ...upToWaveOneGate,
      { kind: 'result', result: result('a', 1, 'ok') },
      { kind: 'result', result: { ...result('b', 1, 'failed'), error: 'SendCommand failed' } },
      { kind: 'result', result: { ...result('d', 1, 'failed'), error: 'health check failed' } },
      wave({ kind: 'waveFinished', result: { wave: 1, actions: 3, failed: 2, failureRatio: 2 / 3, halted: true, unhealthy: 1 }, durationMs: 9_000 }),
      { kind: 'result', result: { ...result('e', 2, 'skipped'), skipped: { reason: 'halted', detail: 'rollout halted' } } },
    ]);
    const v = live.current()!;
    expect(v.waves!.map((w) => `${w.wave}:${w.state}:${w.gate}:${w.done}/${w.failed}/${w.remaining}`)).toEqual([
      '0:done:passed:1/0/0',
      '1:halted:failed:3/2/0',
      '2:not run:none:0/0/1',
    ]);
    expect(v).toMatchObject({ state: 'running', done: 5, failed: 3, remaining: 0 });
    const later = new Date(AT.getTime() + 60_000);
    expect(live.finish({ result: 'failed', runId: 'run-1', changeSet: { rollout: { halted: true } } }, later)).toBe(true);
    expect(live.current()).toMatchObject({ state: 'halted', phase: 'halted', finishedAt: later.toISOString(), runId: 'run-1' });
    // Events after the end (none should come) change nothing; a second finish neither.
    expect(live.observe(wave({ kind: 'waveStarted', wave: 2, actions: 1 }), later)).toBe(false);
    expect(live.finish({ result: 'ok' }, later)).toBe(false);
  });

  it('a gate with no tenant to poll (all failed, or declared stopped) checked nothing: its gate stays none', () => {
    const v = fold([
      ...upToWaveOneGate.slice(0, 3),
      wave({ kind: 'waveStarted', wave: 0, actions: 1 }),
      wave({ kind: 'waveChecking', wave: 0, settled: 1, failed: 0, tenants: 0 }),
      wave({ kind: 'waveFinished', result: { wave: 0, actions: 1, failed: 0, failureRatio: 0, halted: false, unhealthy: 0 }, durationMs: 900 }),
    ]).current()!;
    expect(v.waves![0]).toEqual({ wave: 0, targets: 1, done: 1, failed: 0, remaining: 0, state: 'done', gate: 'none', durationMs: 900 });
  });

  it('an apply that ends before its waves ran marks them not run; one without a change set failed; a new apply starts afresh', () => {
    const live = fold(upToWaveOneGate);
    live.finish({ result: 'interrupted' }, AT);
    expect(live.current()!.state).toBe('interrupted');
    expect(live.current()!.waves!.map((w) => w.state)).toEqual(['done', 'not run', 'not run']);
    live.observe({ kind: 'executing', actions: 2, budgets: DEFAULT_BUDGETS }, AT);
    expect(live.current()).toMatchObject({ state: 'running', phase: 'apply', done: 0, remaining: 2, waves: [] });
    live.finish({ result: 'failed' }, AT);
    expect(live.current()!.state).toBe('failed');
  });

  it('the snapshot keeps a copy: later events do not change what a page already read', () => {
    const live = fold(upToWaveOneGate.slice(0, 9));
    const before = live.current()!;
    fold(upToWaveOneGate.slice(9), live);
    expect(before.waves![1]!.done).toBe(0);
    expect(live.current()!.waves![1]!.done).toBe(3);
  });
});

describe('the rollout page with live progress', () => {
  const base = { environment: 'dev', updatedAt: AT.toISOString(), plan: undefined, changeSet: undefined };

  it('while running: a status sentence, each wave with its counts and gate, and a reload every few seconds', () => {
    const page = renderRollout({ ...base, rollout: fold(upToWaveOneGate).current() });
    expect(page).toMatch(/<meta http-equiv="refresh" content="\d+">/);
    expect(page).toContain('role="status"');
    expect(page).toContain(`Apply running since ${AT.toISOString()}: rollout wave 1 (2 of 3); 1 done, 0 failed, 4 remaining.`);
    expect(page).toMatch(
      /<tr data-wave="0"><td>canary \(0\)<\/td><td>1<\/td><td>1<\/td><td>0<\/td><td>0<\/td>\s*<td><span class="b ok">passed<\/span><\/td><td><span class="b ok">done<\/span><\/td><td>2s<\/td>/,
    );
    expect(page).toMatch(
      /<tr data-wave="1"><td>1<\/td><td>3<\/td><td>3<\/td><td><span class="b bad">1<\/span><\/td><td>0<\/td>\s*<td><span class="b warn">checking 2 tenants<\/span><\/td><td><span class="b warn">health gate<\/span><\/td>/,
    );
    expect(page).toMatch(/<tr data-wave="2"><td>2<\/td><td>1<\/td><td>0<\/td><td>0<\/td><td>1<\/td>\s*<td><\/td><td><span class="b none">pending<\/span><\/td>/);
    expect(page).not.toContain('<script');
  });

  it('once over: no reload, the outcome and run, and text from the events escaped', () => {
    const live = fold(upToWaveOneGate);
    live.finish({ result: 'ok', runId: HOSTILE, changeSet: { rollout: { halted: false } } }, AT);
    const page = renderRollout({ ...base, rollout: live.current() });
    expect(page).not.toContain('http-equiv="refresh"');
    expect(page).toContain(`Rollout finished at ${AT.toISOString()} (run ${HOSTILE_ESCAPED})`);
    expect(page).not.toContain(HOSTILE);
  });

  it('nothing running: says so and does not reload', () => {
    const page = renderRollout({ ...base, rollout: undefined });
    expect(page).toContain('No rollout in progress');
    expect(page).not.toContain('http-equiv="refresh"');
  });
});
