/**
 * What the executor takes besides the plan and its context, and the rollout events it tells as it
 * goes (progress output, serve's live web view and the ETA read them).
 */
import type { ActionResult, WaveResult } from './changeset.js';

/** The rollout as it goes: its waves in order (`plan`), then each wave's start and end. */
export type WaveEvent =
  | { kind: 'rolloutPlanned'; waves: Array<{ wave: number; actions: number }> }
  | { kind: 'waveStarted'; wave: number; actions: number }
  /** An action of the running wave settled (its result is held until the wave's health gate is done). */
  | { kind: 'waveProgress'; wave: number; settled: number; failed: number }
  /** The wave's actions have all settled; its health gate starts polling this many tenants. */
  | { kind: 'waveChecking'; wave: number; settled: number; failed: number; tenants: number }
  | { kind: 'waveFinished'; result: WaveResult; durationMs: number };

export interface ExecuteOptions {
  runId?: string;
  /** Tenants worked on at once; default the plan's `settings.budgets.concurrency`. */
  concurrency?: number;
  /** When aborted (lease lost, SIGINT), no further action starts; the rest are skipped as interrupted. */
  signal?: AbortSignal;
  /** Called as each action settles, for progress output. */
  onResult?: (result: ActionResult) => void;
  /** Called as the rollout phase and each of its waves start and end, for progress output. */
  onWave?: (event: WaveEvent) => void;
  now?: () => Date;
}
