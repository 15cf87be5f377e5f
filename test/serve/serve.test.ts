import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMetrics, startServeWorld, type ServeWorld } from './serve-world.js';

const TOKEN = `serve-token-${Math.random().toString(36).slice(2)}`;
let w: ServeWorld;

beforeAll(async () => {
  w = await startServeWorld({
    schedules: 'schedules:\n  plan: "*/15 * * * *"\n  drift: "0 * * * *"\n  sweep: "30 2 * * *"\n',
    env: { TENANTFORM_SERVE_TOKEN: TOKEN },
  });
}, 120_000);
afterAll(async () => {
  expect(await w.stop()).toBe(0);
});

const auth = { headers: { Authorization: `Bearer ${TOKEN}` } };
async function scrape() {
  const res = await fetch(`${w.url}/metrics`, auth);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  const text = await res.text();
  expect(text).not.toContain(TOKEN);
  return parseMetrics(text);
}

describe('tenantform serve against the emulators', () => {
  it("registers fleet.yaml's schedules (apply absent) and says so", () => {
    expect(Object.fromEntries(w.expressions)).toEqual({ plan: '*/15 * * * *', drift: '0 * * * *', sweep: '30 2 * * *' });
    expect(w.stdout()).toMatch(/^serving on http:\/\/127\.0\.0\.1:\d+ \(schedules, UTC: plan "\*\/15 \* \* \* \*", drift "0 \* \* \* \*", sweep "30 2 \* \* \*"\)\n$/);
  });

  it('is healthy before any job, and guards everything but /healthz with the bearer token', async () => {
    const health = await fetch(`${w.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true, checks: { store: { ok: true } } });
    for (const path of ['/metrics', '/', '/runs']) {
      expect((await fetch(`${w.url}${path}`)).status).toBe(401);
      expect((await fetch(`${w.url}${path}`, { headers: { Authorization: 'Bearer wrong' } })).status).toBe(401);
    }
    // Once authorised, / is the read-only web view serve mounts; a path nobody handles is 404.
    const page = await fetch(`${w.url}/`, auth);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect((await fetch(`${w.url}/no-such-page`, auth)).status).toBe(404);
  });

  it('runs plan, drift and a sweep dry run, each after pulling the newly pushed commit, and counts them', async () => {
    const pushed = await w.push();
    await w.serve.fire('plan');
    expect(w.serve.last.plan).toMatchObject({ result: 'changes', commit: pushed });
    expect(w.serve.last.plan!.plan!.basis.commit).toBe(pushed);
    expect(w.serve.last.plan!.desired!.commit).toBe(pushed);
    const second = await w.push();
    await w.serve.fire('drift');
    await w.serve.fire('sweep');
    expect(w.serve.last.drift).toMatchObject({ commit: second });
    expect(['ok', 'changes']).toContain(w.serve.last.drift!.result);
    expect(w.serve.last.sweep).toMatchObject({ commit: second, result: 'ok' });
    expect(w.serve.last.sweep!.sweep).toMatchObject({ mode: 'dryRun', environment: 'dev' });

    const m = await scrape();
    expect(m.get('tenantform_runs_total{job="plan",result="changes"}')).toBe(1);
    expect(m.get('tenantform_runs_total{job="sweep",result="ok"}')).toBe(1);
    expect(m.get('tenantform_job_duration_seconds_count{job="plan"}')).toBe(1);
    expect(m.get('tenantform_last_success_timestamp_seconds{job="plan"}')).toBeGreaterThan(Date.now() / 1000 - 600);
    expect(m.get('tenantform_fleet_tenants')).toBe(4);
    expect(m.get('tenantform_fleet_workspaces')).toBeGreaterThanOrEqual(4);
    expect(m.get('tenantform_api_calls_total{service="ec2"}')).toBeGreaterThan(0);
    expect(m.get('tenantform_api_calls_total{service="cloudflare"}')).toBeGreaterThan(0);
    expect(m.get('tenantform_lease_held')).toBe(0);
    expect(m.get('tenantform_fetch_ok')).toBe(1);
    expect([...m.keys()].every((k) => k.startsWith('tenantform_'))).toBe(true);
  }, 120_000);

  it('skips and counts a job fired while its previous run is still going', async () => {
    const first = w.serve.fire('plan');
    const second = w.serve.fire('plan');
    await Promise.all([first, second]);
    const m = await scrape();
    expect(m.get('tenantform_runs_total{job="plan",result="skipped"}')).toBe(1);
    expect(m.get('tenantform_runs_total{job="plan",result="changes"}')).toBe(2);
  }, 120_000);

  it('picks up pushed schedule changes: reschedules and logs one line; invalid ones keep the old schedules and /healthz says why', async () => {
    await w.push({ fleet: (t) => t.replace('  plan: "*/15 * * * *"\n', '  plan: "*/5 * * * *"\n') });
    await w.serve.fire('sweep');
    expect(Object.fromEntries(w.expressions)).toEqual({ plan: '*/5 * * * *', drift: '0 * * * *', sweep: '30 2 * * *' });
    expect(w.stderr()).toMatch(/^\S+ schedules changed: plan "\*\/15 \* \* \* \*" → "\*\/5 \* \* \* \*"$/m);

    await w.push({ fleet: (t) => t.replace('  drift: "0 * * * *"\n', '  drift: "0 25 * * *"\n') });
    await w.serve.fire('sweep');
    expect(Object.fromEntries(w.expressions)).toEqual({ plan: '*/5 * * * *', drift: '0 * * * *', sweep: '30 2 * * *' });
    expect(w.stderr()).toMatch(
      /^\S+ warning: new schedules refused, the previous ones still run: fleet\.yaml:\d+: The drift schedule "0 25 \* \* \*" is not a valid cron expression/m,
    );
    const health = await fetch(`${w.url}/healthz`);
    expect(health.status).toBe(503);
    const body = (await health.json()) as { ok: boolean; checks: { fetch: { ok: boolean }; schedules: { ok: boolean; message: string } } };
    expect(body.checks.fetch.ok).toBe(true);
    expect(body.checks.schedules).toMatchObject({ ok: false, message: expect.stringContaining('The drift schedule "0 25 * * *"') as string });

    await w.push({ fleet: (t) => t.replace('  drift: "0 25 * * *"\n', '  drift: "0 * * * *"\n') });
    await w.serve.fire('sweep');
    expect((await fetch(`${w.url}/healthz`)).status).toBe(200);
  }, 120_000);

  it('refuses a force-pushed branch: the job fails naming it, the tree stays, /healthz says why', async () => {
    const before = w.serve.last.plan!.commit;
    const rewritten = await w.push({ force: true });
    await w.serve.fire('plan');
    expect(w.serve.last.plan).toMatchObject({ result: 'failed', commit: undefined });
    expect(w.serve.last.plan!.message).toContain('not a fast-forward');
    expect(w.serve.last.plan!.message).toContain(rewritten.slice(0, 12));
    expect(w.stderr()).toContain('plan failed: fetch fleet repository origin/main');
    const health = await fetch(`${w.url}/healthz`);
    expect(health.status).toBe(503);
    const body = (await health.json()) as { ok: boolean; checks: { fetch: { ok: boolean; message: string }; store: { ok: boolean } } };
    expect(body.ok).toBe(false);
    expect(body.checks.fetch.ok).toBe(false);
    expect(body.checks.fetch.message).toContain('not a fast-forward');
    expect(body.checks.store.ok).toBe(true);
    const m = await scrape();
    expect(m.get('tenantform_runs_total{job="plan",result="failed"}')).toBe(1);
    expect(m.get('tenantform_fetch_ok')).toBe(0);
    expect(before).toBeDefined();
  }, 120_000);
});
