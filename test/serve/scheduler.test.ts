import { describe, expect, it } from 'vitest';
import type { ScheduledJob } from '../../src/desired/model.js';
import { nodeCronSchedule, Scheduler, type ScheduleFn } from '../../src/serve/scheduler.js';

/** A schedule seam that records each registration and lets the test fire ticks by hand. */
function manualCron() {
  const tasks = new Map<string, { expression: string; timezone: string; fire: () => void; stopped: boolean }>();
  const schedule: ScheduleFn = (expression, fire, options) => {
    const task = { expression, timezone: options.timezone, fire, stopped: false };
    tasks.set(options.name.replace('tenantform-', ''), task);
    return { stop: () => void (task.stopped = true) };
  };
  const tick = (job: string) => {
    const t = tasks.get(job)!;
    if (!t.stopped) t.fire();
  };
  return { schedule, tasks, tick };
}

function gate() {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('the serve scheduler', () => {
  it('registers each configured job with its expression in UTC, and runs it on its tick', async () => {
    const cron = manualCron();
    const ran: ScheduledJob[] = [];
    const s = new Scheduler({
      schedules: { plan: '*/15 * * * *', drift: '0 * * * *', sweep: '30 2 * * *' },
      run: async (job) => void ran.push(job),
      schedule: cron.schedule,
    });
    s.start();
    expect([...cron.tasks.keys()].sort()).toEqual(['drift', 'plan', 'sweep']);
    expect(cron.tasks.get('plan')).toMatchObject({ expression: '*/15 * * * *', timezone: 'UTC' });
    cron.tick('plan');
    cron.tick('drift');
    cron.tick('sweep');
    await s.idle();
    expect(ran).toEqual(['plan', 'drift', 'sweep']);
    await s.stop();
  });

  it('skips and counts a job whose previous run is still going, and runs jobs one at a time', async () => {
    const cron = manualCron();
    const skipped: ScheduledJob[] = [];
    const log: string[] = [];
    const planGate = gate();
    let active = 0;
    let maxActive = 0;
    const s = new Scheduler({
      schedules: { plan: '* * * * *', drift: '* * * * *' },
      schedule: cron.schedule,
      onSkip: (job) => skipped.push(job),
      run: async (job) => {
        active++;
        maxActive = Math.max(maxActive, active);
        log.push(`start ${job}`);
        if (job === 'plan') await planGate.promise;
        log.push(`end ${job}`);
        active--;
      },
    });
    s.start();
    cron.tick('plan');
    await Promise.resolve();
    cron.tick('plan');
    cron.tick('plan');
    cron.tick('drift');
    expect(skipped).toEqual(['plan', 'plan']);
    expect(s.busy).toBe(true);
    planGate.open();
    await s.idle();
    expect(log).toEqual(['start plan', 'end plan', 'start drift', 'end drift']);
    expect(maxActive).toBe(1);
    // Once the run is over, the next tick runs again.
    cron.tick('plan');
    await s.idle();
    expect(log.filter((l) => l === 'start plan')).toHaveLength(2);
    await s.stop();
  });

  it('stops firing once stopped, and a failing job does not stop the queue', async () => {
    const cron = manualCron();
    const ran: ScheduledJob[] = [];
    const s = new Scheduler({
      schedules: { plan: '* * * * *', apply: '* * * * *' },
      schedule: cron.schedule,
      run: async (job) => {
        ran.push(job);
        if (job === 'apply') throw new Error('boom');
      },
    });
    s.start();
    cron.tick('apply');
    cron.tick('plan');
    await s.idle();
    expect(ran).toEqual(['apply', 'plan']);
    await s.stop();
    expect(cron.tasks.get('plan')!.stopped).toBe(true);
    await s.fire('plan');
    expect(ran).toEqual(['apply', 'plan']);
  });

  it("runs on node-cron's own timer: a six-field every-second schedule fires", async () => {
    let fired = 0;
    let done!: () => void;
    const twice = new Promise<void>((resolve) => (done = resolve));
    const task = nodeCronSchedule('* * * * * *', () => void (++fired === 2 && done()), { timezone: 'UTC', name: 'tenantform-test' });
    await twice;
    await task.stop();
    expect(fired).toBeGreaterThanOrEqual(2);
  });
});
