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
/** apply's MAX_INSTANCES_PER_SEND and FIRST_POLL_DELAY_MS (src/render does not import src/apply; a test checks they agree). */
export const INSTANCES_PER_SEND = 50;
export const FIRST_POLL_DELAY_MS = 250;

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

/**
 * A rollout wave's cost before any is measured, from the budgets alone: the pace per action is
 * the SSM budget's (priorMsPerAction); the burst the client keeps of the SSM bucket (one token
 * in reserve, as the rate gate does) covers that many actions' calls at a wave's start; the fixed
 * cost is one poll pause (a command not done at its first GetCommandInvocation is polled again
 * after FIRST_POLL_DELAY_MS). How long a command really runs is unknown until the canary wave.
 */
export function rolloutPrior(budgets: Budgets): WavePrior {
  const callsPerAction = 1 / INSTANCES_PER_SEND + POLLS_PER_REDEPLOY;
  return {
    overheadMs: FIRST_POLL_DELAY_MS,
    msPerAction: priorMsPerAction(budgets, 'rollout'),
    burstActions: Math.max(0, budgets.ssm.burst - 1) / callsPerAction,
  };
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
 * A rollout's time left, wave by wave. Waves run one after another (a boundary is serial: the next
 * starts when the last one's health gate is done), so the time left is the sum of each wave's cost.
 * A wave has two serial parts:
 * - its commands: a fixed cost (the first GetCommandInvocation round, and whatever the command
 *   itself takes — the canary wave measures it) plus a pace per action once the SSM bucket's
 *   burst is spent (⌈N/50⌉ SendCommand and ~one GetCommandInvocation per instance, in the SSM
 *   budget): overhead + pace × max(0, actions − burst). Fitted to the waves measured so far
 *   (least squares over their command parts, against the actions past the burst; one size
 *   measured: it gives the fixed cost and the budgets the pace; none: the budgets' prior). Once
 *   two sizes are seen the pace observed replaces the budgets': a loaded cloud (or emulator) is
 *   slower than its budget;
 * - its health gate: the tenants of the wave checked `gateConcurrency` at a time, so
 *   ⌈actions / gateConcurrency⌉ rounds, each costing what the measured gates' rounds cost on
 *   average (nothing before a gate is measured: a healthy check answers at once).
 * A wave counts as measured once all its actions settled (its gate time is then what remains of
 * it), not only once its results are reported — they are held until its gate is done, and come
 * all at once. Monotone in the work remaining: the fitted pace is never negative.
 */
export interface WavePrior {
  overheadMs: number;
  msPerAction: number;
  /** Actions covered by the bucket's burst at a wave's start (it refills between waves). Default 0. */
  burstActions?: number;
}

export interface MeasuredWave {
  actions: number;
  /** The whole wave, health gate included. */
  durationMs: number;
  /** Of which in the health gate. Default 0. */
  gateMs?: number;
}

export interface RolloutEtaInput {
  /** Waves finished: their sizes and durations. */
  finished: MeasuredWave[];
  /**
   * The wave running, if any: its size, how long it has run, and once all its actions have
   * settled, how long that took (the rest of it is its health gate).
   */
  current?: { actions: number; elapsedMs: number; commandsMs?: number | undefined } | undefined;
  /** Sizes of the waves not yet started. */
  pending: number[];
  prior: WavePrior;
  /** Tenants a health gate checks at once (the run's concurrency). Default: all of a wave at once. */
  gateConcurrency?: number;
}

/**
 * The commands part of a wave's cost: fitted to the command parts measured, else the prior. The
 * fit is over the actions past the burst (max(0, actions − burst)), since those are what the rate
 * paces: a 25-action wave that the burst partly covers would otherwise understate the pace of a
 * 750-action one.
 */
export function fitWaves(measured: Array<{ actions: number; durationMs: number }>, prior: WavePrior): WavePrior {
  const n = measured.length;
  if (n === 0) return prior;
  const burst = prior.burstActions ?? 0;
  const paced = measured.map((w) => ({ x: Math.max(0, w.actions - burst), y: w.durationMs }));
  const keepBurst = prior.burstActions !== undefined ? { burstActions: burst } : {};
  if (new Set(paced.map((p) => p.x)).size === 1) {
    // One size seen (a canary wave of 1): it measures the fixed cost; the pace stays the budgets'.
    const overhead = paced.reduce((s, p) => s + p.y - prior.msPerAction * p.x, 0) / n;
    return { overheadMs: Math.max(0, overhead), msPerAction: prior.msPerAction, ...keepBurst };
  }
  // Two sizes or more: the line through them.
  const mx = paced.reduce((s, p) => s + p.x, 0) / n;
  const my = paced.reduce((s, p) => s + p.y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const p of paced) {
    sxy += (p.x - mx) * (p.y - my);
    sxx += (p.x - mx) ** 2;
  }
  const msPerAction = Math.max(0, sxy / sxx);
  return { overheadMs: Math.max(0, my - msPerAction * mx), msPerAction, ...keepBurst };
}

/** Mean cost of one round of health checks over the gates measured (0 before any). */
export function gateRoundMs(measured: MeasuredWave[], concurrency: number): number {
  let rounds = 0;
  let ms = 0;
  for (const w of measured) {
    if ((w.gateMs ?? 0) <= 0) continue;
    rounds += gateRounds(w.actions, concurrency);
    ms += w.gateMs!;
  }
  return rounds === 0 ? 0 : ms / rounds;
}

function gateRounds(actions: number, concurrency: number): number {
  return Math.ceil(Math.max(0, actions) / Math.max(1, concurrency));
}

export function estimateRolloutMs(i: RolloutEtaInput): number {
  const concurrency = i.gateConcurrency ?? Number.POSITIVE_INFINITY;
  const current = i.current;
  const commandsSeen = [
    ...i.finished.map((w) => ({ actions: w.actions, durationMs: Math.max(0, w.durationMs - (w.gateMs ?? 0)) })),
    ...(current?.commandsMs !== undefined ? [{ actions: current.actions, durationMs: current.commandsMs }] : []),
  ];
  const fit = fitWaves(commandsSeen, i.prior);
  const round = gateRoundMs(i.finished, concurrency);
  const commands = (n: number) => fit.overheadMs + fit.msPerAction * Math.max(0, n - (fit.burstActions ?? 0));
  const gate = (n: number) => round * gateRounds(n, concurrency);
  let left = 0;
  if (current) {
    left =
      current.commandsMs !== undefined
        ? Math.max(0, gate(current.actions) - (current.elapsedMs - current.commandsMs))
        : Math.max(0, commands(current.actions) - current.elapsedMs) + gate(current.actions);
  }
  return left + i.pending.reduce((s, n) => s + commands(n) + gate(n), 0);
}
