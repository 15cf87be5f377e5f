/**
 * The serve use case: schedule the fleet's jobs, and before each one fetch and fast-forward the
 * checkout (a failed fetch or a non-fast-forward is a failed job, the tree untouched), then run
 * it against that one commit. Counts everything in its own metrics, keeps the last outcome per
 * job and the last fetch for /healthz, and hands each job's results to `onSnapshot` in the web
 * view's field names. After each successful fetch it re-reads fleet.yaml's `schedules` and, when
 * they changed, reschedules (told through `onSchedules`); schedules that do not pass the checks
 * `validate` makes keep the running ones and make /healthz unhealthy, with the reason.
 * `stop` stops scheduling, gives the running job `deadlineMs` to finish, then aborts it (apply
 * records the run as interrupted and releases the lease) and waits for it.
 * Like every use case it prints nothing, reads no process state and installs no signal handler.
 */
import type { ChangeSet } from '../apply/changeset.js';
import type { CloudSessionFactory } from '../app/ports.js';
import type { DesiredState, ScheduledJob, Schedules } from '../desired/model.js';
import type { DriftResult } from '../drift/model.js';
import type { Inventory } from '../live/model.js';
import type { Plan } from '../plan/model.js';
import type { CallObserver } from '../rate/counting.js';
import type { SweepReport } from '../sweep/model.js';
import { fetchFastForward, type FetchTarget } from './fetch.js';
import type { Health } from './http.js';
import { runJob, type JobDeps, type JobOutcome } from './jobs.js';
import { ServeMetrics } from './metrics.js';
import { readSchedules } from '../desired/schedules.js';
import { describeScheduleChange, Scheduler, type ScheduleFn } from './scheduler.js';

/** What each job adds to the web view's snapshot (a Partial<WebSnapshot> by field name). */
export interface SnapshotPart {
  environment?: string;
  updatedAt?: string;
  desired?: DesiredState;
  inventory?: Inventory;
  lastPlan?: Plan;
  lastChangeSet?: ChangeSet;
  lastDrift?: DriftResult;
  lastSweep?: SweepReport;
}

export interface ServeInput {
  schedules: Schedules;
  /** The checkout to fast-forward; undefined runs jobs on the tree as it is (no remote). */
  fetch: FetchTarget | undefined;
  jobs: Omit<JobDeps, 'clients' | 'onLease'>;
  /** Makes the cloud clients; `observe` counts every call and throttling answer for /metrics. */
  clients: (observe: CallObserver) => CloudSessionFactory;
  /** Throws when the audit store cannot be reached (for /healthz). */
  checkStore: () => Promise<void>;
  schedule?: ScheduleFn;
  now?: () => Date;
  onOutcome?: (outcome: JobOutcome) => void;
  onSnapshot?: (part: SnapshotPart) => void;
  /** Told when re-read schedules took effect (`changed`: one line saying what) or were refused (`invalid`: why). */
  onSchedules?: (event: { kind: 'changed' | 'invalid'; message: string }) => void;
}

interface FetchState {
  ok: boolean;
  at: string;
  commit?: string;
  message?: string;
}

export class Serve {
  readonly metrics = new ServeMetrics();
  /** The last outcome of each job. */
  readonly last: Partial<Record<ScheduledJob, JobOutcome>> = {};
  lastFetch: FetchState | undefined;
  /** The schedules running now, and why the last re-read ones were refused (undefined: they were not). */
  schedules: Schedules;
  scheduleProblem: string | undefined;
  private readonly scheduler: Scheduler;
  private readonly deps: JobDeps;
  private running: { job: ScheduledJob; controller: AbortController; done: Promise<void> } | undefined;
  private readonly now: () => Date;

  constructor(private readonly input: ServeInput) {
    this.now = input.now ?? (() => new Date());
    this.schedules = { ...input.schedules };
    this.deps = {
      ...input.jobs,
      clients: input.clients((service, throttled) => this.metrics.call(service, throttled)),
      onLease: (held) => this.metrics.leaseHeld.set(held ? 1 : 0),
    };
    this.scheduler = new Scheduler({
      schedules: input.schedules,
      run: (job) => this.runOne(job),
      onSkip: (job) => this.metrics.skipped(job),
      ...(input.schedule ? { schedule: input.schedule } : {}),
    });
  }

  start(): void {
    this.scheduler.start();
  }

  /** Fires a job now, as its schedule would (skipped when it is already queued or running). */
  fire(job: ScheduledJob): Promise<void> {
    return this.scheduler.fire(job);
  }

  get runningJob(): ScheduledJob | undefined {
    return this.running?.job;
  }

  async stop(opts: { deadlineMs: number; reason: unknown }): Promise<void> {
    await this.scheduler.stop();
    const current = this.running;
    if (current) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), opts.deadlineMs)));
      const settled = await Promise.race([current.done.then(() => 'done' as const), late]);
      clearTimeout(timer);
      if (settled === 'late') current.controller.abort(opts.reason);
    }
    await this.scheduler.idle();
  }

  async health(): Promise<Health> {
    const fetch = this.input.fetch
      ? this.lastFetch
        ? {
            ok: this.lastFetch.ok,
            at: this.lastFetch.at,
            ...(this.lastFetch.commit ? { commit: this.lastFetch.commit } : {}),
            ...(this.lastFetch.message ? { message: this.lastFetch.message } : {}),
          }
        : { ok: true, message: 'no job has fetched yet' }
      : { ok: true, message: 'no remote: jobs run on the checkout as it is' };
    let store: Health['checks']['store'];
    try {
      await this.input.checkStore();
      store = { ok: true };
    } catch (e) {
      store = { ok: false, message: this.input.jobs.redactor.redact(e instanceof Error ? e.message : String(e)) };
    }
    const schedules = this.scheduleProblem
      ? { ok: false, message: `fleet.yaml's new schedules were refused, the previous ones still run: ${this.scheduleProblem}` }
      : { ok: true };
    return { ok: fetch.ok && store.ok && schedules.ok, checks: { fetch, store, schedules } };
  }

  private async runOne(job: ScheduledJob): Promise<void> {
    const controller = new AbortController();
    let finish!: () => void;
    const done = new Promise<void>((resolve) => (finish = resolve));
    this.running = { job, controller, done };
    const started = this.now();
    try {
      let commit: string | undefined;
      if (this.input.fetch) {
        try {
          commit = (await fetchFastForward(this.input.fetch)).commit;
          this.lastFetch = { ok: true, at: this.now().toISOString(), commit };
          this.metrics.fetchOk.set(1);
          await this.reloadSchedules();
        } catch (e) {
          const message = this.input.jobs.redactor.redact(e instanceof Error ? e.message : String(e));
          this.lastFetch = { ok: false, at: this.now().toISOString(), message };
          this.metrics.fetchOk.set(0);
          this.settle({ job, result: 'failed', exitCode: 1, commit: undefined, startedAt: started.toISOString(), finishedAt: this.now().toISOString(), message });
          return;
        }
      }
      this.settle(await runJob(job, commit, this.deps, controller.signal, this.now));
    } finally {
      this.running = undefined;
      finish();
    }
  }

  private async reloadSchedules(): Promise<void> {
    const read = readSchedules(this.input.jobs.repoDir);
    if (!read.ok) {
      const message = this.input.jobs.redactor.redact(read.message);
      if (message !== this.scheduleProblem) this.input.onSchedules?.({ kind: 'invalid', message });
      this.scheduleProblem = message;
      return;
    }
    this.scheduleProblem = undefined;
    const change = describeScheduleChange(this.schedules, read.schedules);
    if (!change) return;
    await this.scheduler.reschedule(read.schedules);
    this.schedules = read.schedules;
    this.input.onSchedules?.({ kind: 'changed', message: change });
  }

  private settle(outcome: JobOutcome): void {
    this.last[outcome.job] = outcome;
    this.metrics.record(outcome);
    this.input.onOutcome?.(outcome);
    const part: SnapshotPart = { updatedAt: outcome.finishedAt };
    if (outcome.desired) {
      part.desired = outcome.desired;
      part.environment = outcome.desired.fleet.environment;
    }
    if (outcome.inventory) part.inventory = outcome.inventory;
    if (outcome.plan) part.lastPlan = outcome.plan;
    if (outcome.changeSet) part.lastChangeSet = outcome.changeSet;
    if (outcome.drift) part.lastDrift = outcome.drift;
    if (outcome.sweep) part.lastSweep = outcome.sweep;
    this.input.onSnapshot?.(part);
  }
}
