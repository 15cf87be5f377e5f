/**
 * serve re-reads fleet.yaml's `schedules` after each successful fetch: a change reschedules (only
 * the jobs whose expression changed get a new timer) and is logged in one line; schedules that do
 * not pass validate's checks keep the running ones and make /healthz unhealthy with the reason,
 * until a later fetch brings valid ones. The Serve daemon runs on a real git checkout of a bare
 * remote with a hand-fired schedule seam; its jobs stop at the wiring check (an empty
 * environment), before any cloud call, so no emulator is needed.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleGit } from 'simple-git';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScheduledJob } from '../../src/desired/model.js';
import { readSchedules } from '../../src/desired/schedules.js';
import { Redactor } from '../../src/redact.js';
import { Serve } from '../../src/serve/daemon.js';
import { describeScheduleChange, type ScheduleFn } from '../../src/serve/scheduler.js';
import { BASE_FILES, makeFleet, removeFleets } from '../desired/fleet-fixture.js';

const IDENTITY = ['-c', 'user.name=test', '-c', 'user.email=test@example.dev'];
const made: string[] = [];
afterAll(() => {
  removeFleets();
  made.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

/** Every timer the daemon registered, in order, with whether it was stopped since. */
function manualCron() {
  const registered: Array<{ job: string; expression: string; stopped: boolean; fire: () => void }> = [];
  const schedule: ScheduleFn = (expression, fire, options) => {
    const task = { job: options.name.replace('tenantform-', ''), expression, stopped: false, fire };
    registered.push(task);
    return { stop: () => void (task.stopped = true) };
  };
  const live = () => Object.fromEntries(registered.filter((t) => !t.stopped).map((t) => [t.job, t.expression]));
  return { schedule, registered, live };
}

const fleetWith = (schedules: string) => BASE_FILES['fleet.yaml'] + schedules;

describe('serve reschedules when fleet.yaml changes', () => {
  const cron = manualCron();
  const events: Array<{ kind: string; message: string }> = [];
  let serve: Serve;
  let dev: string;
  let checkout: string;
  const push = async (fleetYaml: string) => {
    writeFileSync(join(dev, 'fleet.yaml'), fleetYaml);
    const git = simpleGit({ baseDir: dev });
    await git.add('fleet.yaml');
    await git.raw([...IDENTITY, 'commit', '-q', '-m', 'schedules']);
    await git.raw(['push', '-q', 'origin', 'HEAD:main']);
  };
  const run = async (job: ScheduledJob) => {
    await serve.fire(job);
    // The fetch itself worked: whatever the job made of the tree, the checkout is the pushed one.
    expect(serve.lastFetch).toMatchObject({ ok: true });
  };

  beforeAll(async () => {
    dev = makeFleet({ 'fleet.yaml': fleetWith('schedules:\n  plan: "*/15 * * * *"\n  drift: "0 * * * *"\n') });
    const root = mkdtempSync(join(tmpdir(), 'tenantform-reschedule-'));
    made.push(root);
    const remote = join(root, 'remote.git');
    checkout = join(root, 'checkout');
    const git = simpleGit({ baseDir: dev });
    await git.raw(['init', '-q', '--initial-branch=main']);
    await git.add('.');
    await git.raw([...IDENTITY, 'commit', '-q', '-m', 'fleet']);
    await simpleGit().raw(['clone', '-q', '--bare', dev, remote]);
    await git.raw(['remote', 'add', 'origin', remote]);
    await simpleGit().clone(remote, checkout);
    serve = new Serve({
      schedules: { plan: '*/15 * * * *', drift: '0 * * * *' },
      fetch: { repoDir: checkout, remote: 'origin', branch: 'main' },
      jobs: {
        repoDir: checkout,
        wiringEnv: {},
        openStore: () => Promise.reject(new Error('no store in this test')),
        redactor: new Redactor(),
        lockTtlMs: 60_000,
        sweepMinAgeMs: 0,
      },
      clients: () => () => {
        throw new Error('no cloud in this test');
      },
      checkStore: async () => undefined,
      schedule: cron.schedule,
      onSchedules: (e) => events.push(e),
    });
    serve.start();
  });
  afterAll(async () => {
    await serve?.stop({ deadlineMs: 1000, reason: new Error('test over') });
  });

  it('starts with the schedules it was given', () => {
    expect(cron.live()).toEqual({ plan: '*/15 * * * *', drift: '0 * * * *' });
    expect(cron.registered).toHaveLength(2);
  });

  it('a fetch that brings no schedule change reschedules nothing and says nothing', async () => {
    await run('plan');
    expect(cron.registered).toHaveLength(2);
    expect(events).toEqual([]);
  });

  it('a pushed change reschedules only the jobs that changed, and says what changed in one line', async () => {
    await push(fleetWith('schedules:\n  plan: "*/5 * * * *"\n  drift: "0 * * * *"\n  apply: "0 3 * * *"\n'));
    await run('plan');
    expect(cron.live()).toEqual({ plan: '*/5 * * * *', drift: '0 * * * *', apply: '0 3 * * *' });
    // drift kept its timer; plan's old one was stopped.
    expect(cron.registered.map((t) => `${t.job} ${t.expression} ${t.stopped ? 'stopped' : 'live'}`)).toEqual([
      'plan */15 * * * * stopped',
      'drift 0 * * * * live',
      'plan */5 * * * * live',
      'apply 0 3 * * * live',
    ]);
    expect(events).toEqual([{ kind: 'changed', message: 'plan "*/15 * * * *" → "*/5 * * * *", apply added "0 3 * * *"' }]);
    expect(serve.schedules).toEqual({ plan: '*/5 * * * *', drift: '0 * * * *', apply: '0 3 * * *' });
    expect((await serve.health()).ok).toBe(true);
  });

  it('the new timers fire their jobs; the stopped one does not', async () => {
    const before = serve.last.apply;
    cron.registered.find((t) => t.job === 'apply' && !t.stopped)!.fire();
    await new Promise((resolve) => setImmediate(resolve));
    await serve.fire('drift');
    expect(serve.last.apply).toBeDefined();
    expect(serve.last.apply).not.toBe(before);
  });

  it('invalid new schedules keep the running ones and make /healthz unhealthy with the reason, once logged', async () => {
    await push(fleetWith('schedules:\n  plan: "*/5 * * * *"\n  drift: "61 * * * *"\n'));
    await run('plan');
    await run('plan');
    expect(cron.live()).toEqual({ plan: '*/5 * * * *', drift: '0 * * * *', apply: '0 3 * * *' });
    expect(cron.registered).toHaveLength(4);
    const baseLines = BASE_FILES['fleet.yaml']!.split('\n').length - 1;
    const health = await serve.health();
    expect(health.ok).toBe(false);
    expect(health.checks.schedules.ok).toBe(false);
    expect(health.checks.schedules.message).toContain(`fleet.yaml:${baseLines + 3}: The drift schedule "61 * * * *" is not a valid cron expression`);
    expect(health.checks.schedules.message).toContain('the previous ones still run');
    expect(health.checks.fetch.ok).toBe(true);
    expect(events.slice(1)).toEqual([{ kind: 'invalid', message: expect.stringContaining('The drift schedule "61 * * * *"') as string }]);
  });

  it('a later valid push takes effect and makes /healthz healthy again', async () => {
    await push(fleetWith('schedules:\n  drift: "30 * * * *"\n'));
    await run('drift');
    expect(cron.live()).toEqual({ drift: '30 * * * *' });
    expect(events.at(-1)).toEqual({ kind: 'changed', message: 'plan removed (was "*/5 * * * *"), drift "0 * * * *" → "30 * * * *", apply removed (was "0 3 * * *")' });
    expect((await serve.health()).ok).toBe(true);
    expect(readFileSync(join(checkout, 'fleet.yaml'), 'utf8')).toContain('drift: "30 * * * *"');
  });
});

describe('reading schedules from fleet.yaml', () => {
  it('reads them, and none when fleet.yaml has none', () => {
    expect(readSchedules(makeFleet({ 'fleet.yaml': fleetWith('schedules:\n  sweep: "30 2 * * *"\n') }))).toEqual({ ok: true, schedules: { sweep: '30 2 * * *' } });
    expect(readSchedules(makeFleet())).toEqual({ ok: true, schedules: {} });
  });

  it('refuses an unknown job, a non-string, a bad expression and an unparsable file, at file:line', () => {
    const baseLines = BASE_FILES['fleet.yaml']!.split('\n').length - 1;
    const unknown = readSchedules(makeFleet({ 'fleet.yaml': fleetWith('schedules:\n  deploy: "* * * * *"\n') }));
    expect(unknown).toEqual({ ok: false, message: `fleet.yaml:${baseLines + 2}: "deploy" is not a job serve runs (plan, drift, sweep, apply).` });
    const number = readSchedules(makeFleet({ 'fleet.yaml': fleetWith('schedules:\n  apply: 5\n') }));
    expect(number).toEqual({ ok: false, message: `fleet.yaml:${baseLines + 2}: The apply schedule must be a cron expression in a string.` });
    const fields = readSchedules(makeFleet({ 'fleet.yaml': fleetWith('schedules:\n  sweep: "* * *"\n') }));
    expect(fields.ok === false && fields.message).toContain('expected 5 or 6 fields but got 3');
    const broken = readSchedules(makeFleet({ 'fleet.yaml': fleetWith('schedules: [\n') }));
    expect(broken.ok).toBe(false);
    expect(broken.ok === false && broken.message).toMatch(/^fleet\.yaml:\d+: /);
  });

  it('describes a change in one line, and no change as none', () => {
    expect(describeScheduleChange({ plan: '* * * * *' }, { plan: '* * * * *' })).toBeUndefined();
    expect(describeScheduleChange({}, { sweep: '0 0 * * *' })).toBe('sweep added "0 0 * * *"');
  });
});
