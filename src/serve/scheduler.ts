/**
 * Fires serve's jobs on their cron schedules (node-cron, UTC) and runs them one at a time, so
 * the fleet checkout is only fast-forwarded between jobs and each job sees one commit. A job that
 * fires while its previous run is still queued or running is skipped (and reported through
 * `onSkip`), never stacked. `schedule` is node-cron's by default; tests inject their own to fire
 * ticks by hand. `reschedule` swaps in new expressions (serve re-reads them after each fetch):
 * only the jobs whose expression changed get a new timer; a queued or running job is untouched.
 */
import { schedule as cronSchedule } from 'node-cron';
import type { ScheduledJob, Schedules } from '../desired/model.js';
import { SCHEDULED_JOBS } from '../desired/schedules.js';

export interface CronHandle {
  stop(): void | Promise<void>;
}
export type ScheduleFn = (expression: string, fire: () => void, options: { timezone: string; name: string }) => CronHandle;

export const nodeCronSchedule: ScheduleFn = (expression, fire, options) => cronSchedule(expression, fire, { ...options, noOverlap: false });

export interface SchedulerOptions {
  schedules: Schedules;
  run: (job: ScheduledJob) => Promise<void>;
  onSkip?: (job: ScheduledJob) => void;
  schedule?: ScheduleFn;
}

export class Scheduler {
  private readonly handles = new Map<ScheduledJob, { expression: string; handle: CronHandle }>();
  private schedules: Schedules;
  private started = false;
  private readonly pending = new Set<ScheduledJob>();
  private tail: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly opts: SchedulerOptions) {
    this.schedules = { ...opts.schedules };
  }

  start(): void {
    this.started = true;
    // Nothing to stop yet, so every timer is registered before this returns.
    void this.register();
  }

  /** Replaces the schedules; before start, only records them. */
  async reschedule(schedules: Schedules): Promise<void> {
    if (this.stopped) return;
    this.schedules = { ...schedules };
    if (this.started) await this.register();
  }

  /** Makes the timers match `this.schedules`: stops the ones that changed or went, starts the new. */
  private async register(): Promise<void> {
    const schedule = this.opts.schedule ?? nodeCronSchedule;
    for (const job of SCHEDULED_JOBS) {
      const expression = this.schedules[job];
      const current = this.handles.get(job);
      if (current?.expression === expression) continue;
      if (current) {
        this.handles.delete(job);
        await Promise.resolve(current.handle.stop());
      }
      if (expression) this.handles.set(job, { expression, handle: schedule(expression, () => void this.fire(job), { timezone: 'UTC', name: `tenantform-${job}` }) });
    }
  }

  /** Queues `job` unless it is already queued or running; resolves when it has run (or was skipped). */
  fire(job: ScheduledJob): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.pending.has(job)) {
      this.opts.onSkip?.(job);
      return Promise.resolve();
    }
    this.pending.add(job);
    const ran = this.tail.then(async () => {
      try {
        if (!this.stopped) await this.opts.run(job);
      } finally {
        this.pending.delete(job);
      }
    });
    // A failing job must not stop the queue; run() reports its own failures.
    this.tail = ran.catch(() => undefined);
    return this.tail;
  }

  /** True while a job is queued or running. */
  get busy(): boolean {
    return this.pending.size > 0;
  }

  /** Stops firing; queued jobs that have not started are dropped. Resolves when the running one settles. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const { handle } of this.handles.values()) await Promise.resolve(handle.stop());
    this.handles.clear();
  }

  /** Settles when the queue is empty. */
  idle(): Promise<void> {
    return this.tail;
  }
}

/** One line on what changed between two sets of schedules (`plan "0 * * * *" → "30 * * * *", apply added "0 3 * * *"`); undefined when nothing did. */
export function describeScheduleChange(before: Schedules, after: Schedules): string | undefined {
  const parts: string[] = [];
  for (const job of SCHEDULED_JOBS) {
    const was = before[job];
    const now = after[job];
    if (was === now) continue;
    if (was === undefined) parts.push(`${job} added "${now}"`);
    else if (now === undefined) parts.push(`${job} removed (was "${was}")`);
    else parts.push(`${job} "${was}" → "${now}"`);
  }
  return parts.length > 0 ? parts.join(', ') : undefined;
}
