/**
 * The running apply as the web view shows it: apply's progress events (src/app/ports.ts) folded
 * into plain data — the phase, the counts, and per rollout wave its targets, done, failed,
 * remaining and health-gate state — which serve puts into its snapshot as each event arrives.
 * Pure: no clock of its own (the caller passes the time), no I/O.
 *
 * A wave's results are held by apply until its health gate is done, so while it runs its counts
 * come from `waveProgress` (each action as it settles) and `waveChecking` (the gate started);
 * `waveFinished` settles them (the gate may have failed some). The apply's end comes from serve's
 * job outcome (`finish`), since apply has no progress event of its own for it.
 */
import type { ProgressEvent } from '../app/ports.js';
import type { LiveWave, RolloutProgress } from './snapshot.js';

export class LiveRollout {
  private view: RolloutProgress | undefined;
  private total = 0;

  /** Folds an event in; returns true when what the page shows changed. */
  observe(e: ProgressEvent, at: Date): boolean {
    if (e.kind === 'executing') {
      this.total = e.actions;
      this.view = { phase: 'apply', state: 'running', startedAt: at.toISOString(), done: 0, failed: 0, remaining: e.actions, waves: [] };
      return true;
    }
    const v = this.view;
    if (!v || v.state !== 'running') return false;
    if (e.kind === 'result') {
      v.done += 1;
      if (e.result.status !== 'ok') v.failed += 1;
      v.remaining = Math.max(0, this.total - v.done);
      return true;
    }
    if (e.kind !== 'wave') return false;
    const w = e.event;
    const waves = v.waves ?? [];
    if (w.kind === 'rolloutPlanned') {
      v.waves = w.waves.map((x) => ({ wave: x.wave, targets: x.actions, done: 0, failed: 0, remaining: x.actions, state: 'pending', gate: 'none' }));
      return true;
    }
    const wave = waves.find((x) => x.wave === (w.kind === 'waveFinished' ? w.result.wave : w.wave));
    if (!wave) return false;
    switch (w.kind) {
      case 'waveStarted':
        v.phase = 'rollout';
        v.wave = w.wave;
        wave.state = 'running';
        break;
      case 'waveProgress':
        counts(wave, w.settled, w.failed);
        break;
      case 'waveChecking':
        counts(wave, w.settled, w.failed);
        // No tenant to poll (all failed already, or declared stopped): the gate checks nothing.
        if (w.tenants > 0) {
          wave.gate = 'checking';
          wave.checking = w.tenants;
        }
        break;
      case 'waveFinished': {
        counts(wave, w.result.actions, w.result.failed);
        wave.state = w.result.halted ? 'halted' : 'done';
        wave.durationMs = w.durationMs;
        if (w.result.unhealthy !== undefined && (w.result.unhealthy > 0 || wave.gate === 'checking')) {
          wave.gate = w.result.unhealthy > 0 ? 'failed' : 'passed';
          wave.unhealthy = w.result.unhealthy;
        }
        delete wave.checking;
        if (w.result.halted) for (const later of waves) if (later.state === 'pending') later.state = 'not run';
        break;
      }
    }
    return true;
  }

  /** The apply's job ended: the rollout is over (finished, halted, or the apply did not finish). */
  finish(outcome: { result: string; runId?: string | undefined; changeSet?: { rollout: { halted: boolean } } | undefined }, at: Date): boolean {
    const v = this.view;
    if (!v || v.state !== 'running') return false;
    // Applied with some failures is still finished (the counts say how many); no change set: the apply itself failed.
    v.state = outcome.result === 'interrupted' ? 'interrupted' : !outcome.changeSet ? 'failed' : outcome.changeSet.rollout.halted ? 'halted' : 'finished';
    v.phase = v.state;
    v.finishedAt = at.toISOString();
    if (outcome.runId) v.runId = outcome.runId;
    for (const w of v.waves ?? []) if (w.state === 'pending' || w.state === 'running') w.state = 'not run';
    return true;
  }

  /** A copy the snapshot can keep while this goes on changing. */
  current(): RolloutProgress | undefined {
    return this.view && { ...this.view, waves: (this.view.waves ?? []).map((w) => ({ ...w })) };
  }
}

function counts(wave: LiveWave, settled: number, failed: number): void {
  wave.done = settled;
  wave.failed = failed;
  wave.remaining = Math.max(0, wave.targets - settled);
}
