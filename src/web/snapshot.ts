/**
 * What the web view shows besides the audit store: the latest results of serve's jobs (the
 * desired state and inventory a plan observed, the plan, the change set, drift, sweep, the
 * rollout in progress). serve's jobs write into one SnapshotHolder; the pages only read it.
 * Plain data, replaced part by part, so a page never sees a half-written result.
 */
import type { ChangeSet } from '../changeset/model.js';
import type { DesiredState } from '../desired/model.js';
import type { DriftResult } from '../drift/model.js';
import type { Inventory } from '../live/model.js';
import type { Plan } from '../plan/model.js';
import type { SweepReport } from '../sweep/model.js';

/** One rollout wave of the running apply (live-rollout.ts). */
export interface LiveWave {
  wave: number;
  targets: number;
  done: number;
  failed: number;
  remaining: number;
  state: 'pending' | 'running' | 'done' | 'halted' | 'not run';
  /** The health gate: none configured (or not reached), polling, passed, or some tenant unhealthy. */
  gate: 'none' | 'checking' | 'passed' | 'failed';
  /** Tenants the gate is polling. */
  checking?: number;
  unhealthy?: number;
  durationMs?: number;
}

/** The apply serve is running (or ran last): its phase and counts, and its rollout's waves. */
export interface RolloutProgress {
  phase: string;
  wave?: number;
  done: number;
  failed: number;
  remaining: number;
  /** Absent for a snapshot made without live progress. */
  state?: 'running' | 'finished' | 'halted' | 'failed' | 'interrupted';
  startedAt?: string;
  finishedAt?: string;
  runId?: string;
  waves?: LiveWave[];
}

export interface WebSnapshot {
  environment: string;
  /** ISO time of the last update. */
  updatedAt: string;
  desired?: DesiredState;
  inventory?: Inventory;
  lastPlan?: Plan;
  lastChangeSet?: ChangeSet;
  lastDrift?: DriftResult;
  lastSweep?: SweepReport;
  rollout?: RolloutProgress;
}

export class SnapshotHolder {
  private current: WebSnapshot;

  constructor(
    environment: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.current = { environment, updatedAt: this.now().toISOString() };
  }

  get(): WebSnapshot {
    return this.current;
  }

  /** Replaces the given parts (a new object each time, so a reader's copy stays whole) and stamps updatedAt. */
  update(part: Partial<WebSnapshot>): void {
    this.current = { ...this.current, ...part, environment: this.current.environment, updatedAt: this.now().toISOString() };
  }
}
