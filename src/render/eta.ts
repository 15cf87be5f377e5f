/**
 * The estimate of time left that apply's progress line shows: pure, so its properties are tested
 * on their own (test/render/eta.test.ts).
 *
 * Before anything has settled, the only knowledge is the rate budgets: a prior time per action,
 * from the budget the phase is bound by (a redeploy costs one SSM SendCommand per 50 instances
 * and about one GetCommandInvocation per instance and poll, all in the SSM budget; a create or a
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
const POLLS_PER_REDEPLOY = 2;
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
