/**
 * apply's progress on stderr (stdout carries only the result: the plan and the change set):
 * - `live`: stderr is a terminal and not CI — one status line per phase and wave, redrawn in
 *   place (done / failed / remaining and an estimate of time left, src/render/eta.ts), with each
 *   failure printed as a line of its own above it;
 * - `plain`: no terminal, or CI=true — one line per wave and one per failure, nothing redrawn;
 * - `json` (--json): every progress event as one JSON line (`{"event": …}`), the estimate
 *   included, a result with its one-line text (`line`). Notes and warnings stay text lines
 *   (`note: …`, `warning: …`) in every mode, as do errors.
 * The tracker (counts and estimate) is separate from the writing, so the benchmark reads the same
 * estimate the line shows.
 */
import type { ProgressEvent } from '../app/ports.js';
import type { ActionResult } from '../apply/changeset.js';
import type { Budgets } from '../desired/model.js';
import { resultLine } from '../render/changeset-text.js';
import { estimateRemainingMs, estimateRolloutMs, formatDuration, priorMsPerAction, rolloutPrior, type MeasuredWave } from '../render/eta.js';

export type ProgressMode = 'live' | 'plain' | 'json';

export interface ProgressSnapshot {
  phase: 'apply' | 'rollout';
  /** The rollout wave running, when in the rollout. */
  wave?: number;
  waves?: number;
  done: number;
  failed: number;
  remaining: number;
  /** In this phase's own terms (a rollout's estimate counts every wave still to run). */
  etaMs: number;
}

/** Counts settled actions per phase and estimates the time left from the budgets and the pace. */
export class ProgressTracker {
  private budgets: Budgets | undefined;
  private total = 0;
  private rolloutTotal = 0;
  private waveCount = 0;
  private phase: 'apply' | 'rollout' = 'apply';
  private phaseStarted: number;
  private wave: number | undefined;
  private readonly counts = { apply: { done: 0, failed: 0 }, rollout: { done: 0, failed: 0 } };
  private pending: number[] = [];
  private readonly finished: MeasuredWave[] = [];
  /** The running wave: when it started, its results told, and when all its actions had settled and its gate began. */
  private current: { actions: number; started: number; done: number; settledAt?: number; gateAt?: number } | undefined;

  constructor(private readonly now: () => number = () => Date.now()) {
    this.phaseStarted = now();
  }

  /** Folds an event in; returns true when the counts changed. */
  observe(e: ProgressEvent): boolean {
    if (e.kind === 'executing') {
      this.budgets = e.budgets;
      this.total = e.actions;
      this.phaseStarted = this.now();
      return true;
    }
    if (e.kind === 'wave') {
      const w = e.event;
      if (w.kind === 'rolloutPlanned') {
        this.rolloutTotal = w.waves.reduce((n, x) => n + x.actions, 0);
        this.waveCount = w.waves.length;
        this.pending = w.waves.map((x) => x.actions);
        if (this.total - this.rolloutTotal === 0) this.phase = 'rollout';
      } else if (w.kind === 'waveStarted') {
        if (this.phase !== 'rollout') this.phaseStarted = this.now();
        this.phase = 'rollout';
        this.wave = w.wave;
        this.pending.shift();
        this.current = { actions: w.actions, started: this.now(), done: 0 };
      } else if (w.kind === 'waveFinished') {
        // The wave's own measure of its time replaces the one taken at its last result.
        if (this.current) this.finished.push(this.measured(w.result.actions, w.durationMs));
        else if (this.finished.length > 0) {
          const last = this.finished[this.finished.length - 1]!;
          this.finished[this.finished.length - 1] = { ...last, actions: w.result.actions, durationMs: w.durationMs };
        }
        this.current = undefined;
      } else {
        // Within a wave: no count the line shows changes, but the estimate learns when the wave's
        // commands are over (its results are held until its gate is done).
        const c = this.current;
        if (c && (w.kind === 'waveChecking' || w.settled >= c.actions)) c.settledAt ??= this.now();
        if (c && w.kind === 'waveChecking' && w.tenants > 0) c.gateAt = this.now();
        return false;
      }
      return true;
    }
    if (e.kind === 'result') {
      const c = this.counts[e.result.wave !== undefined || this.phase === 'rollout' ? 'rollout' : 'apply'];
      c.done += 1;
      if (e.result.status !== 'ok') c.failed += 1;
      // A wave's results come together once its gate is done: the last one ends the wave.
      if (this.current && e.result.wave !== undefined && ++this.current.done >= this.current.actions) {
        this.finished.push(this.measured(this.current.actions, this.now() - this.current.started));
        this.current = undefined;
      }
      return true;
    }
    return false;
  }

  /** The running wave, ended after `durationMs`: the part after its gate began was the gate's. */
  private measured(actions: number, durationMs: number): MeasuredWave {
    const c = this.current;
    const gateMs = c?.gateAt !== undefined ? Math.max(0, c.started + durationMs - c.gateAt) : 0;
    return { actions, durationMs, ...(gateMs > 0 ? { gateMs } : {}) };
  }

  snapshot(): ProgressSnapshot {
    const phase = this.phase;
    const c = this.counts[phase];
    const phaseTotal = phase === 'rollout' ? this.rolloutTotal : this.total - this.rolloutTotal;
    const remaining = Math.max(0, phaseTotal - c.done);
    const prior = this.budgets ? priorMsPerAction(this.budgets, phase) : 0;
    const etaMs =
      phase === 'rollout'
        ? estimateRolloutMs({
            finished: this.finished,
            current: this.current
              ? {
                  actions: this.current.actions,
                  elapsedMs: this.now() - this.current.started,
                  commandsMs: this.current.settledAt !== undefined ? this.current.settledAt - this.current.started : undefined,
                }
              : undefined,
            // A halted rollout runs no more waves.
            pending: remaining === 0 ? [] : this.pending,
            prior: this.budgets ? rolloutPrior(this.budgets) : { overheadMs: 0, msPerAction: 0 },
            gateConcurrency: this.budgets?.concurrency,
          })
        : estimateRemainingMs({ remaining, done: c.done, elapsedMs: this.now() - this.phaseStarted, priorMsPerAction: prior });
    return {
      phase,
      ...(phase === 'rollout' && this.wave !== undefined ? { wave: this.wave, waves: this.waveCount } : {}),
      done: c.done,
      failed: c.failed,
      remaining,
      etaMs: Math.round(etaMs),
    };
  }
}

export function statusLine(s: ProgressSnapshot): string {
  const where = s.phase === 'rollout' ? `rollout${s.wave !== undefined ? ` wave ${s.wave} (${s.waves ?? '?'} waves)` : ''}` : 'apply';
  return `${where}: ${s.done} done, ${s.failed} failed, ${s.remaining} remaining, ~${formatDuration(s.etaMs)} left`;
}

export interface ProgressWriter {
  /** Handles an event other than `planned` and `interrupted` (the command handles those). */
  write(e: ProgressEvent): void;
  /** Clears a live line before anything else is printed for good. */
  finish(): void;
}

export function progressWriter(mode: ProgressMode, stderr: (text: string) => void, tracker = new ProgressTracker()): ProgressWriter {
  let live = false;
  const clear = () => {
    if (live) stderr('\r\x1b[2K');
    live = false;
  };
  const redraw = () => {
    stderr(`\r\x1b[2K${statusLine(tracker.snapshot())}`);
    live = true;
  };
  const failure = (r: ActionResult) => r.status !== 'ok';
  return {
    write(e) {
      const changed = tracker.observe(e);
      if (mode === 'json' && e.kind !== 'note' && e.kind !== 'warning') {
        stderr(`${JSON.stringify(jsonEvent(e))}\n`);
        if (changed) stderr(`${JSON.stringify({ event: 'progress', ...tracker.snapshot() })}\n`);
        return;
      }
      if (e.kind === 'note' || e.kind === 'warning') {
        clear();
        stderr(`${e.kind}: ${e.message}\n`);
      } else if (e.kind === 'result' && failure(e.result)) {
        clear();
        stderr(`${resultLine(e.result)}\n`);
      } else if (e.kind === 'wave' && e.event.kind === 'waveFinished') {
        const w = e.event.result;
        clear();
        const gate = w.unhealthy !== undefined ? `, ${w.unhealthy} unhealthy` : '';
        stderr(
          `wave ${w.wave}: ${w.actions - w.failed}/${w.actions} ok, ${w.failed} failed${gate}, ${formatDuration(e.event.durationMs)}${w.halted ? ' — rollout halted' : ''}; ${statusLine(tracker.snapshot())}\n`,
        );
      }
      // Within a wave nothing counted changes (its results are held until its gate is done), but
      // its actions settling move the estimate: the live line counts down with them.
      if (mode === 'live' && (changed || e.kind === 'wave')) redraw();
    },
    finish: clear,
  };
}

function jsonEvent(e: ProgressEvent): Record<string, unknown> {
  switch (e.kind) {
    case 'note':
    case 'warning':
      return { event: e.kind, message: e.message };
    case 'executing':
      return { event: 'executing', actions: e.actions };
    case 'result':
      return { event: 'result', line: resultLine(e.result), result: e.result };
    case 'wave':
      return { event: e.event.kind, ...e.event };
    default:
      return { event: e.kind };
  }
}
