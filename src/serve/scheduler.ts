/**
 * Fires serve's jobs on their cron schedules (node-cron, UTC) and runs them one at a time, so
 * the fleet checkout is only fast-forwarded between jobs and each job sees one commit. A job that
 * fires while its previous run is still queued or running is skipped (and reported through
 * `onSkip`), never stacked. `schedule` is node-cron's by default; tests inject their own to fire
 * ticks by hand.
 */
import { schedule as cronSchedule } from 'node-cron';
import type { ScheduledJob, Schedules } from '../desired/model.js';

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
  private readonly handles: CronHandle[] = [];
  private readonly pending = new Set<ScheduledJob>();
  private tail: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly opts: SchedulerOptions) {}

  start(): void {
    const schedule = this.opts.schedule ?? nodeCronSchedule;
    for (const job of ['plan', 'drift', 'sweep', 'apply'] as const) {
      const expression = this.opts.schedules[job];
      if (expression) this.handles.push(schedule(expression, () => void this.fire(job), { timezone: 'UTC', name: `tenantform-${job}` }));
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
    for (const h of this.handles) await Promise.resolve(h.stop());
    this.handles.length = 0;
  }

  /** Settles when the queue is empty. */
  idle(): Promise<void> {
    return this.tail;
  }
}
