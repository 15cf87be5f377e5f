/**
 * The quota guard end to end, through `main`, against moto (behind the fault proxy, which
 * answers Service Quotas for EC2 as moto cannot) and the Cloudflare double: what the plan adds is
 * counted against every instance, tunnel and record in the account and zone, not only
 * tenantform's; over a quota the plan is refused (exit 3) with the numbers, within 10% it gets a
 * notice; apply re-reads the quotas and refuses a saved plan the world has outgrown, before
 * anything is created.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeInstanceTypesCommand, RunInstancesCommand, TerminateInstancesCommand, type _InstanceType } from '@aws-sdk/client-ec2';
import Cloudflare from 'cloudflare';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Plan } from '../../src/plan/model.js';
import { startApplyWorld, type ApplyWorld } from './apply-world.js';

let w: ApplyWorld;
let leaked: string[] = [];
let fleetText: string;
beforeAll(async () => {
  w = await startApplyWorld();
  fleetText = readFileSync(join(w.dir, 'fleet.yaml'), 'utf8');
});
afterAll(async () => {
  await w?.close();
});
beforeEach(async () => {
  w.aws.faults.faithful.ec2VcpuQuota = 1152;
  writeFleetWith('');
  if (leaked.length > 0) await w.check.ec2.send(new TerminateInstancesCommand({ InstanceIds: leaked }));
  leaked = [];
});

/** fleet.yaml from the pristine copy, with an optional `quotas:` block appended. */
function writeFleetWith(extra: string): void {
  writeFileSync(join(w.dir, 'fleet.yaml'), fleetText + extra);
}

/** 27 workspace instances another system launched and forgot, t3.medium (2 vCPUs) each: 54 vCPUs. */
async function leakInstances(count: number): Promise<void> {
  const out = await w.check.ec2.send(
    new RunInstancesCommand({
      ImageId: w.aws.seed.ami,
      InstanceType: 't3.medium',
      MinCount: count,
      MaxCount: count,
      TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Role', Value: 'workspace' }] }],
    }),
  );
  leaked = (out.Instances ?? []).map((i) => i.InstanceId!);
}

async function plannedVcpus(plan: Plan): Promise<number> {
  const types = plan.actions
    .filter((a) => a.steps.some((s) => s.resource === 'instance' && s.op === 'create'))
    .map((a) => (a.intent.kind === 'tenant' ? a.intent.tenant.instanceType : a.intent.kind === 'workspace' ? a.intent.workspace.instanceType : ''));
  const described = await w.check.ec2.send(new DescribeInstanceTypesCommand({ InstanceTypes: [...new Set(types)] as _InstanceType[] }));
  const vcpus = new Map<string, number>((described.InstanceTypes ?? []).map((t) => [t.InstanceType!, t.VCpuInfo!.DefaultVCpus!]));
  return types.reduce((n, t) => n + vcpus.get(t)!, 0);
}

async function planJson(): Promise<{ code: number; plan: Plan; stderr: string }> {
  const res = await w.run(['plan', '--json']);
  return { code: res.code, plan: JSON.parse(res.stdout) as Plan, stderr: res.stderr };
}

describe('the EC2 vCPU quota', () => {
  it('the staging story: at a 64-vCPU limit with 27 leaked workspace instances, the next launch is refused naming the numbers', async () => {
    await leakInstances(27);
    w.aws.faults.faithful.ec2VcpuQuota = 64;
    const { code, plan } = await planJson();
    expect(code).toBe(3);
    const planned = await plannedVcpus(plan);
    expect(planned).toBeGreaterThan(10);
    const quota = plan.guards.filter((g) => g.guard === 'quota');
    expect(quota).toHaveLength(1);
    expect(quota[0]!.blocking).toBe(true);
    expect(quota[0]!.message).toContain('27 instances running now');
    expect(quota[0]!.message).toContain(`54 live + ${planned} planned = ${54 + planned}, over the quota of 64 (Service Quotas L-1216C47A) by ${54 + planned - 64}`);
    // Every launching action is held by the guard.
    const launching = plan.actions.filter((a) => a.steps.some((s) => s.resource === 'instance' && s.op === 'create'));
    for (const a of launching) expect(a.blockedBy).toContain('quota');
    // The text form says the same.
    const text = await w.run(['plan']);
    expect(text.code).toBe(3);
    expect(text.stdout + text.stderr).toContain(`over the quota of 64`);
    // The quota was read through Service Quotas, and every running instance was counted by state.
    const calls = w.aws.calls.filter((c) => c.action === 'GetServiceQuota');
    expect(calls.length).toBeGreaterThan(0);
  });

  it('within 10% of the quota: a notice, not a refusal', async () => {
    await leakInstances(27);
    const probe = await planJson();
    const planned = await plannedVcpus(probe.plan);
    // 54 + planned lands at 95% of the quota.
    const limit = Math.ceil((54 + planned) / 0.95);
    w.aws.faults.faithful.ec2VcpuQuota = limit;
    const { code, plan } = await planJson();
    expect(code).toBe(2);
    expect(plan.guards.filter((g) => g.guard === 'quota')).toEqual([]);
    const near = plan.notices.filter((n) => n.kind === 'quotaNear');
    expect(near).toHaveLength(1);
    expect(near[0]!.message).toContain(`54 live + ${planned} planned = ${54 + planned} of the quota of ${limit}`);
  });

  it('without a Service Quotas answer, fleet.yaml quotas.vcpus stands in', async () => {
    await leakInstances(27);
    w.aws.faults.faithful.ec2VcpuQuota = undefined;
    writeFleetWith('quotas:\n  vcpus: 60\n');
    const { code, plan } = await planJson();
    expect(code).toBe(3);
    expect(plan.guards.find((g) => g.guard === 'quota')?.message).toContain('over the quota of 60 (quotas.vcpus (Service Quotas could not be read))');
  });

  it('apply re-reads the quota: a saved plan that fit when made is refused once the account filled up, and nothing is created', async () => {
    const saved = join(w.dir, 'quota.json');
    expect((await w.run(['plan', '--out', saved])).code).toBe(2);
    await leakInstances(27);
    w.aws.faults.faithful.ec2VcpuQuota = 64;
    const done = w.mark();
    const res = await w.run(['apply', saved, '--auto-approve']);
    expect(res.code).toBe(3);
    expect(res.stderr).toContain('quota:');
    expect(res.stderr).toContain('over the quota of 64');
    // Only the leaked instances exist: no mutating call was made.
    const mutating = done();
    expect(mutating.aws).toEqual([]);
    expect(mutating.cf).toEqual([]);
  });
});

describe('the Cloudflare quotas', () => {
  function cloudflare(): Cloudflare {
    return new Cloudflare({ apiToken: w.cf.apiToken, baseURL: w.cf.baseURL, maxRetries: 0 });
  }

  it('tunnels per account count every tunnel in the account, not only this environment’s', async () => {
    const cf = cloudflare();
    for (let i = 0; i < 3; i++) await cf.zeroTrust.tunnels.cloudflared.create({ account_id: w.cf.accountId, name: `someone-else-${i}`, config_src: 'cloudflare' });
    const probe = await planJson();
    const creates = probe.plan.actions.flatMap((a) => a.steps).filter((s) => s.resource === 'tunnel' && s.op === 'create').length;
    expect(creates).toBe(4);
    writeFleetWith(`quotas:\n  tunnelsPerAccount: ${3 + creates - 1}\n`);
    const { code, plan } = await planJson();
    expect(code).toBe(3);
    expect(plan.guards.find((g) => g.guard === 'quota')?.message).toContain(
      `Cloudflare tunnels in the account: 3 live + ${creates} planned = ${3 + creates}, over the quota of ${3 + creates - 1} (quotas.tunnelsPerAccount) by 1`,
    );
    writeFleetWith(`quotas:\n  tunnelsPerAccount: ${3 + creates}\n`);
    const near = await planJson();
    expect(near.code).toBe(2);
    expect(near.plan.notices.find((n) => n.kind === 'quotaNear')?.message).toContain(
      `Cloudflare tunnels in the account: 3 live + ${creates} planned = ${3 + creates} of the quota of ${3 + creates}`,
    );
  });

  it('DNS records per zone count every record in the zone', async () => {
    const cf = cloudflare();
    for (let i = 0; i < 5; i++) await cf.dns.records.create({ zone_id: w.cf.zoneId, type: 'A', name: `other-${i}.example.dev`, content: '192.0.2.1', ttl: 1 });
    const probe = await planJson();
    const creates = probe.plan.actions.flatMap((a) => a.steps).filter((s) => s.resource === 'dnsRecord' && s.op === 'create').length;
    const live = w.cf.dnsRecords().length;
    writeFleetWith(`quotas:\n  dnsRecordsPerZone: ${live + creates - 2}\n`);
    const { code, plan } = await planJson();
    expect(code).toBe(3);
    expect(plan.guards.find((g) => g.guard === 'quota')?.message).toContain(
      `DNS records in the zone: ${live} live + ${creates} planned = ${live + creates}, over the quota of ${live + creates - 2} (quotas.dnsRecordsPerZone) by 2`,
    );
    // The counts cost one per_page=1 list call each, not a listing of the zone.
    const countCalls = w.cf.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/dns_records') && new URLSearchParams(r.query).get('per_page') === '1');
    expect(countCalls.length).toBeGreaterThan(0);
  });
});
