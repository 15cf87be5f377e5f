/**
 * executePlan on its own, with the act harness (moto + the Cloudflare double, virtual time): the
 * skip rules the CLI tests do not reach — a blocked tenant takes its workspaces with it, and an
 * aborted run starts nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executePlan } from '../../src/apply/executor.js';
import { loadFleet } from '../../src/desired/load.js';
import type { DesiredState } from '../../src/desired/model.js';
import type { Inventory } from '../../src/live/model.js';
import { planChanges } from '../../src/plan/diff.js';
import type { Plan } from '../../src/plan/model.js';
import { markTraffic, startApplyHarness, type ApplyHarness } from './harness.js';

const REPO_ROOT = new URL('../../', import.meta.url).pathname;

function emptyInventory(): Inventory {
  return {
    environment: 'dev',
    observedAt: new Date(0).toISOString(),
    scope: { kind: 'all' },
    tenants: {},
    unattributed: [],
    calls: { ec2: 0, secretsmanager: 0, ssm: 0, cloudflare: 0 },
  };
}

describe('executePlan', () => {
  let h: ApplyHarness;
  let desired: DesiredState;
  let plan: Plan;
  beforeAll(async () => {
    h = await startApplyHarness();
    const loaded = await loadFleet(REPO_ROOT, { env: { EC2_AMI: h.aws.seed.ami } });
    desired = loaded.state!;
    plan = planChanges(desired, emptyInventory(), { now: new Date(0).toISOString() });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('starts nothing once the run is aborted: every action is skipped as interrupted', async () => {
    const traffic = markTraffic(h);
    const controller = new AbortController();
    controller.abort(new Error('lease lost to run r2'));
    const cs = await executePlan(plan, { ...h.ctx, fleet: desired.fleet }, { signal: controller.signal });
    expect(cs.summary).toEqual({ ok: 0, failed: 0, skipped: plan.actions.length });
    expect(new Set(cs.results.map((r) => r.skipped?.detail))).toEqual(new Set(['not started: lease lost to run r2']));
    expect(traffic()).toEqual({ awsMutating: [], cfMutating: [] });
  });

  it('skips a blocked tenant create and, with it, its workspaces; other tenants proceed', async () => {
    const acmeOnly = plan.actions.filter((a) => a.target.slug === 'acme' || a.target.slug === 'umbrella');
    const blocked: Plan = {
      ...plan,
      actions: acmeOnly.map((a) => (a.target.kind === 'tenant' && a.target.slug === 'acme' ? { ...a, blockedBy: ['deletionProtection' as const] } : a)),
    };
    const cs = await executePlan(blocked, { ...h.ctx, fleet: desired.fleet }, { concurrency: 2 });
    expect(cs.results.map((r) => `${r.kind} ${r.target.workspaceName ?? r.target.slug} ${r.status} ${r.skipped?.reason ?? ''}`.trim())).toEqual([
      'create acme skipped blocked',
      'create research skipped dependency',
      'create support skipped dependency',
      'create umbrella ok',
    ]);
    const umbrella = cs.results.at(-1)!;
    expect(umbrella.resources.filter((r) => r.state === 'created').map((r) => r.kind)).toEqual(['tunnel', 'dnsRecord', 'ingress', 'secret', 'securityGroup', 'instance']);
    expect(JSON.parse(JSON.stringify(cs))).toEqual(cs);
  });
});
