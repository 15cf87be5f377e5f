/**
 * The estimate of time left that apply's progress line shows: pure, so its properties are tested
 * on their own (test/render/eta.test.ts).
 *
 * Before anything has settled, the only knowledge is the rate budgets: a prior time per action,
 * from the budget the phase is bound by (a redeploy costs one SSM SendCommand per 50 instances
 * and one GetCommandInvocation per instance and poll (about one poll each), all in the SSM budget; a create or a
 * replacement one RunInstances in its own, much smaller, bucket). As actions settle, the pace so
 * far takes over: the time per action is a weighted mean of the prior (worth `priorWeight`
 * actions) and the elapsed time per settled action, so
 *   - the estimate is monotone in the work remaining (more remaining, never less time), and
 *   - it converges to the real pace: with n settled actions in t, it tends to t/n per action.
 */
import type { Budgets } from '../desired/model.js';

export interface EtaInput {
  /** Actions not yet settled. */
  remaining: number;
  /** Actions settled so far in this phase (ok, failed or skipped). */
  done: number;
  /** Time the phase has run so far. */
  elapsedMs: number;
  /** The budgets' prior time per action (priorMsPerAction). */
  priorMsPerAction: number;
  /** How many actions' worth of weight the prior carries. Default 5. */
  priorWeight?: number;
}

export const DEFAULT_PRIOR_WEIGHT = 5;

export function estimateRemainingMs(i: EtaInput): number {
  const weight = Math.max(0, i.priorWeight ?? DEFAULT_PRIOR_WEIGHT);
  const done = Math.max(0, i.done);
  const prior = Math.max(0, i.priorMsPerAction);
  const elapsed = Math.max(0, i.elapsedMs);
  const perAction = weight + done === 0 ? prior : (prior * weight + elapsed) / (weight + done);
  return Math.max(0, i.remaining) * perAction;
}

/** GetCommandInvocation calls a redeploy makes, about (one per poll until it finishes). */
const POLLS_PER_REDEPLOY = 1;
const INSTANCES_PER_SEND = 50;

/**
 * Time per action the budgets allow when nothing has settled yet: a rollout is bound by the SSM
 * budget; other actions by RunInstances (the smallest bucket a create or replacement draws from),
 * spread over the tenants worked on at once only as far as the bucket allows.
 */
export function priorMsPerAction(budgets: Budgets, phase: 'apply' | 'rollout'): number {
  if (phase === 'rollout') {
    const calls = 1 / INSTANCES_PER_SEND + POLLS_PER_REDEPLOY;
    return (calls / Math.max(budgets.ssm.perSecond, 0.001)) * 1000;
  }
  return 1000 / Math.max(budgets.ec2.runInstances.perSecond, 0.001);
}

/** "1h02m", "3m05s", "12s": short enough for a status line. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/**
 * A rollout's time left, wave by wave. A wave costs a fixed part (its SSM commands' first polls,
 * the health gate's) plus a part per action (GetCommandInvocation per instance, in the SSM
 * budget): duration ≈ overhead + pace × actions. Both are fitted to the waves done so far (least
 * squares; waves of one size measure the overhead beside the budgets' pace; none: the budgets' prior), so a small
 * canary wave does not make a large final wave look 100 times longer, and the estimate
 * converges to the real waves' cost. Monotone in the work remaining: the fitted pace is never
 * negative.
 */
export interface RolloutEtaInput {
  /** Waves finished: their sizes and durations. */
  finished: Array<{ actions: number; durationMs: number }>;
  /** The wave running, if any: its size and how long it has run. */
  current?: { actions: number; elapsedMs: number } | undefined;
  /** Sizes of the waves not yet started. */
  pending: number[];
  prior: { overheadMs: number; msPerAction: number };
}

export function fitWaves(finished: RolloutEtaInput['finished'], prior: RolloutEtaInput['prior']): { overheadMs: number; msPerAction: number } {
  const n = finished.length;
  if (n === 0) return prior;
  const sizes = new Set(finished.map((w) => w.actions));
  if (n === 1 || sizes.size === 1) {
    // One size seen (a canary wave of 1): it measures the fixed cost; the pace stays the budgets'.
    const meanN = finished.reduce((s, w) => s + w.actions, 0) / n;
    const meanD = finished.reduce((s, w) => s + w.durationMs, 0) / n;
    return { overheadMs: Math.max(0, meanD - prior.msPerAction * meanN), msPerAction: prior.msPerAction };
  }
  const mx = finished.reduce((s, w) => s + w.actions, 0) / n;
  const my = finished.reduce((s, w) => s + w.durationMs, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const w of finished) {
    sxy += (w.actions - mx) * (w.durationMs - my);
    sxx += (w.actions - mx) ** 2;
  }
  const msPerAction = Math.max(0, sxy / sxx);
  return { overheadMs: Math.max(0, my - msPerAction * mx), msPerAction };
}

export function estimateRolloutMs(i: RolloutEtaInput): number {
  const { overheadMs, msPerAction } = fitWaves(i.finished, i.prior);
  const cost = (actions: number) => overheadMs + msPerAction * Math.max(0, actions);
  const current = i.current ? Math.max(0, cost(i.current.actions) - i.current.elapsedMs) : 0;
  return current + i.pending.reduce((s, n) => s + cost(n), 0);
}
