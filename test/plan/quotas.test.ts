/**
 * The pure quota check (src/plan/quotas.ts) and how the renderers show it: what a plan adds is
 * counted against what the account and zone already hold; over a quota → a blocking `quota`
 * finding with the numbers (plan exit 3), within 10% → a `quotaNear` notice.
 */
import { describe, expect, it } from 'vitest';
import type { QuotaLimits } from '../../src/desired/model.js';
import type { QuotaObservation } from '../../src/live/quotas.js';
import { planChanges, planExitCode } from '../../src/plan/diff.js';
import type { Plan } from '../../src/plan/model.js';
import { evaluateQuotas, quotaNeeds, withQuotaResult } from '../../src/plan/quotas.js';
import { renderPlanJson } from '../../src/render/plan-json.js';
import { renderPlanMarkdown } from '../../src/render/plan-markdown.js';
import { renderPlanText } from '../../src/render/plan-text.js';
import { NOW, desiredState, fleetSpec, inventoryFor, inventoryOf, tenant } from './fixtures.js';

const LIMITS: QuotaLimits = { tunnelsPerAccount: 1000, dnsRecordsPerZone: 3500, vcpus: undefined };

function ec2(vcpuQuota: number | undefined, runningVcpus: number, runningInstances: number): QuotaObservation['ec2'] {
  return { vcpuQuota, runningVcpus, runningInstances, vcpusByType: { 't3.small': 2, 't3.large': 2, 't3.xlarge': 4 } };
}

/** `n` new tenants (t3.small, 2 vCPUs each), nothing live. */
function launchPlan(n: number): { plan: Plan; inventory: ReturnType<typeof inventoryOf> } {
  const d = desiredState(Array.from({ length: n }, (_, i) => tenant(`t${i}`)));
  const inventory = inventoryOf([]);
  return { plan: planChanges(d, inventory, { now: NOW }), inventory };
}

function checked(plan: Plan, inventory: ReturnType<typeof inventoryOf>, observation: QuotaObservation, limits = LIMITS): Plan {
  return withQuotaResult(plan, evaluateQuotas(plan.actions, { inventory, observation, limits }));
}

describe('the vCPU quota', () => {
  it('the staging story: 27 leaked instances (54 vCPUs) at a 64-vCPU limit refuse the launch of 6 more tenants, naming the numbers', () => {
    const { plan, inventory } = launchPlan(6);
    const out = checked(plan, inventory, { ec2: ec2(64, 54, 27) });
    const quota = out.guards.filter((g) => g.guard === 'quota');
    expect(quota).toHaveLength(1);
    expect(quota[0]).toMatchObject({ blocking: true });
    expect(quota[0]!.message).toBe(
      'running On-Demand Standard vCPUs (27 instances running now): 54 live + 12 planned = 66, over the quota of 64 (Service Quotas L-1216C47A) by 2; nothing is created (free some or raise the quota first)',
    );
    expect(quota[0]!.actionIds.sort()).toEqual(plan.actions.map((a) => a.id).sort());
    expect(out.actions.every((a) => a.blockedBy?.includes('quota'))).toBe(true);
    expect(planExitCode(out)).toBe(3);
  });

  it('within 10%: a notice naming the tenants, and the plan is not refused', () => {
    const { plan, inventory } = launchPlan(4);
    const out = checked(plan, inventory, { ec2: ec2(64, 50, 25) });
    expect(out.guards.filter((g) => g.guard === 'quota')).toEqual([]);
    expect(out.notices).toEqual([
      {
        kind: 'quotaNear',
        message: 'running On-Demand Standard vCPUs (25 instances running now): 50 live + 8 planned = 58 of the quota of 64 (Service Quotas L-1216C47A), within 10% of it',
        targets: ['t0', 't1', 't2', 't3'],
      },
    ]);
    expect(planExitCode(out)).toBe(2);
    // Under 90%: nothing said at all.
    expect(checked(plan, inventory, { ec2: ec2(64, 40, 20) }).notices).toEqual([]);
  });

  it('without a Service Quotas value, quotas.vcpus stands in; with neither, a quotaUnknown notice and no refusal', () => {
    const { plan, inventory } = launchPlan(6);
    const fallback = checked(plan, inventory, { ec2: { ...ec2(undefined, 54, 27)!, quotaError: 'NoSuchResourceException' } }, { ...LIMITS, vcpus: 60 });
    expect(fallback.guards.find((g) => g.guard === 'quota')?.message).toContain('over the quota of 60 (quotas.vcpus (Service Quotas could not be read)) by 6');
    const unknown = checked(plan, inventory, { ec2: { ...ec2(undefined, 54, 27)!, quotaError: 'NoSuchResourceException' } });
    expect(unknown.guards.filter((g) => g.guard === 'quota')).toEqual([]);
    expect(unknown.notices.map((n) => n.kind)).toEqual(['quotaUnknown']);
    expect(unknown.notices[0]!.message).toContain('NoSuchResourceException');
  });

  it('a resize of a running instance counts only the difference; starts count; a plan that launches nothing reads nothing', () => {
    const live = desiredState([tenant('big'), tenant('sleepy')]);
    const inventory = inventoryFor(live);
    inventory.tenants['org-sleepy']!.instances[0]!.state = 'stopped';
    const d = desiredState([tenant('big', { instanceType: 't3.xlarge' }), tenant('sleepy')]);
    const plan = planChanges(d, inventory, { now: NOW });
    expect(plan.actions.map((a) => a.kind).sort()).toEqual(['resize', 'start']);
    const out = checked(plan, inventory, { ec2: ec2(64, 60, 30) });
    // big: 4 − 2 (it was running as t3.small); sleepy: + 2.
    expect(out.guards.find((g) => g.guard === 'quota')).toBeUndefined();
    expect(out.notices.map((n) => n.message)).toEqual([
      'running On-Demand Standard vCPUs (30 instances running now): 60 live + 6 planned − 2 freed = 64 of the quota of 64 (Service Quotas L-1216C47A), within 10% of it',
    ]);
    expect(planExitCode(checked(plan, inventory, { ec2: ec2(63, 60, 30) }))).toBe(3);
    expect(quotaNeeds(planChanges(live, inventoryFor(live), { now: NOW }).actions, inventoryFor(live))).toEqual({ tunnels: false, dnsRecords: false });
  });
});

describe('the Cloudflare quotas', () => {
  it('tunnels and DNS records: live count + creates − deletes, against fleet.yaml limits', () => {
    const d = desiredState([tenant('new1'), tenant('new2'), tenant('keep')], fleetSpec());
    const inventory = inventoryFor(desiredState([tenant('keep'), tenant('gone')]));
    const plan = planChanges(d, inventory, { now: NOW });
    expect(quotaNeeds(plan.actions, inventory)).toMatchObject({ tunnels: true, dnsRecords: true });
    const out = checked(plan, inventory, { tunnels: 999, dnsRecords: 200 }, { tunnelsPerAccount: 1000, dnsRecordsPerZone: 200, vcpus: undefined });
    expect(out.guards.filter((g) => g.guard === 'quota').map((g) => g.message)).toEqual([
      'DNS records in the zone: 200 live + 2 planned − 1 freed = 201, over the quota of 200 (quotas.dnsRecordsPerZone) by 1; nothing is created (free some or raise the quota first)',
    ]);
    expect(out.notices.map((n) => n.message)).toEqual([
      'Cloudflare tunnels in the account: 999 live + 2 planned − 1 freed = 1000 of the quota of 1000 (quotas.tunnelsPerAccount), within 10% of it',
    ]);
    // The DNS refusal holds the creates that add records, not the delete.
    const held = out.actions.filter((a) => a.blockedBy?.includes('quota')).map((a) => `${a.kind} ${a.target.slug}`);
    expect(held.sort()).toEqual(['create new1', 'create new2']);
  });
});

describe('rendered', () => {
  const { plan, inventory } = launchPlan(6);
  const refused = checked(plan, inventory, { ec2: ec2(64, 54, 27) });
  const near = checked(launchPlan(4).plan, launchPlan(4).inventory, { ec2: ec2(64, 50, 25) });

  it('text', () => {
    const text = renderPlanText(refused, { color: false });
    expect(text).toContain('quota');
    expect(text).toContain('54 live + 12 planned = 66, over the quota of 64');
    expect(renderPlanText(near, { color: false })).toContain('50 live + 8 planned = 58 of the quota of 64');
  });

  it('JSON', () => {
    const json = JSON.parse(renderPlanJson(refused)) as Plan;
    expect(json.guards.find((g) => g.guard === 'quota')?.blocking).toBe(true);
    expect((JSON.parse(renderPlanJson(near)) as Plan).notices[0]!.kind).toBe('quotaNear');
  });

  it('markdown', () => {
    const text = renderPlanMarkdown(refused);
    expect(text).toContain('**quota**: running On-Demand Standard vCPUs (27 instances running now): 54 live + 12 planned = 66, over the quota of 64');
    expect(renderPlanMarkdown(near)).toContain('> [!NOTE]');
  });
});
