/**
 * The canary account end to end: the example fleet (acme is `canary: true`, with two workspaces)
 * against moto behind the fault proxy, with CANARY_* pointing at a second moto account the
 * product reaches only by STS AssumeRole. Everything is checked from outside, with clients in
 * each account.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeInstancesCommand, DescribeSecurityGroupsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { ListSecretsCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plan } from '../../src/plan/model.js';
import { refuseAssumeRole, startCanaryAccount, type CanaryAccount } from '../support/canary-account.js';
import { ORG, startApplyWorld, type ApplyWorld } from './apply-world.js';

const LIVE = ['pending', 'running', 'stopping', 'stopped', 'shutting-down'];

async function orgInstances(ec2: EC2Client, orgId?: string): Promise<string[]> {
  const out = await ec2.send(
    new DescribeInstancesCommand({
      Filters: [
        { Name: 'instance-state-name', Values: LIVE },
        ...(orgId ? [{ Name: 'tag:OrgID', Values: [orgId] }] : [{ Name: 'tag:ManagedBy', Values: ['tenantform'] }]),
      ],
      MaxResults: 1000,
    }),
  );
  return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId!);
}

async function orgsWithInstances(ec2: EC2Client): Promise<string[]> {
  const out = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'instance-state-name', Values: LIVE }], MaxResults: 1000 }));
  const orgs = (out.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.Tags?.find((t) => t.Key === 'OrgID')?.Value ?? '');
  return [...new Set(orgs)].sort();
}

async function orgGroups(ec2: EC2Client, orgId: string): Promise<string[]> {
  const out = await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'tag:OrgID', Values: [orgId] }] }));
  return (out.SecurityGroups ?? []).map((g) => g.GroupId!);
}

async function liveBundles(secrets: SecretsManagerClient, orgId: string): Promise<string[]> {
  const out = await secrets.send(new ListSecretsCommand({ Filters: [{ Key: 'tag-value', Values: [orgId] }] }));
  return (out.SecretList ?? []).filter((s) => !s.DeletedDate).map((s) => s.Name!);
}

/** The example fleet protects acme; these worlds move and delete it, so it is declared unprotected. */
function world(): () => { w: ApplyWorld; canary: CanaryAccount } {
  let w: ApplyWorld | undefined;
  let canary: CanaryAccount | undefined;
  beforeAll(async () => {
    w = await startApplyWorld();
    canary = await startCanaryAccount(w.aws);
    Object.assign(w.env, canary.env);
    const tenantFile = join(w.dir, 'tenants', 'acme', 'tenant.yaml');
    writeFileSync(tenantFile, readFileSync(tenantFile, 'utf8').replace('deletionProtection: true', 'deletionProtection: false'));
  });
  afterAll(async () => {
    canary?.close();
    await w?.close();
  });
  return () => ({ w: w!, canary: canary! });
}

const MAIN_ORGS = [ORG.globex, ORG.initech, ORG.umbrella].sort();

describe('canary tenants live in the canary account', () => {
  const get = world();

  it('plans the canary tenant and its workspaces in the canary account, the rest in main, and says so', async () => {
    const { w, canary } = get();
    const res = await w.run(['plan', '--json']);
    expect(res.code).toBe(2);
    const plan = JSON.parse(res.stdout) as Plan;
    const accountOf = (orgId: string) => [...new Set(plan.actions.filter((a) => a.target.orgId === orgId).map((a) => a.account))];
    expect(accountOf(ORG.acme)).toEqual(['canary']);
    for (const org of MAIN_ORGS) expect(accountOf(org)).toEqual(['main']);
    expect(plan.actions.filter((a) => a.target.orgId === ORG.acme).every((a) => a.intent.account === 'canary')).toBe(true);
    expect(plan.accounts?.canary).toMatchObject({ id: canary.accountId, region: canary.region, observed: true });
    const text = await w.run(['plan']);
    expect(text.stdout).toMatch(new RegExp(`create\\s+tenant acme.*\\[canary ${canary.accountId}/${canary.region}\\]`));
    expect(text.stdout).toContain('[main ');
  });

  it('creates them there by AssumeRole: the canary account holds only acme, the main account none of it', async () => {
    const { w, canary } = get();
    const res = await w.run(['apply', '--auto-approve']);
    expect(res.stderr).not.toMatch(/error/i);
    expect(res.code).toBe(0);
    expect(await orgsWithInstances(canary.check.ec2)).toEqual([ORG.acme]);
    expect(await orgInstances(canary.check.ec2, ORG.acme)).toHaveLength(3);
    expect(await orgsWithInstances(w.check.ec2)).toEqual(MAIN_ORGS);
    expect(await orgGroups(w.check.ec2, ORG.acme)).toEqual([]);
    expect((await orgGroups(canary.check.ec2, ORG.acme)).length).toBeGreaterThanOrEqual(3);
    expect(await liveBundles(canary.check.secrets, ORG.acme)).toHaveLength(1);
    expect(await liveBundles(w.check.secrets, ORG.acme)).toEqual([]);
    for (const org of MAIN_ORGS) expect(await liveBundles(canary.check.secrets, org)).toEqual([]);
    // The canary's calls reached the canary account through assumed-role credentials.
    expect(w.aws.calls.some((c) => c.service === 'sts' && c.action === 'AssumeRole' && c.params.RoleArn === canary.roleArn)).toBe(true);
    expect(w.aws.calls.filter((c) => c.action === 'RunInstances' && c.account === canary.accountId)).toHaveLength(3);
    const again = await w.run(['plan']);
    expect(again.code).toBe(0);
  });

  it('plans flipping acme off canary as a move (create in main — a repair that adopts the tunnel and record — then delete in canary), refused by the delete guard without an override', async () => {
    const { w } = get();
    const tenantFile = join(w.dir, 'tenants', 'acme', 'tenant.yaml');
    writeFileSync(tenantFile, readFileSync(tenantFile, 'utf8').replace('canary: true', 'canary: false'));
    const fleetFile = join(w.dir, 'fleet.yaml');
    writeFileSync(fleetFile, readFileSync(fleetFile, 'utf8').replace('maxDeletes: 3', 'maxDeletes: 0'));
    const res = await w.run(['plan', '--json']);
    expect(res.code).toBe(3);
    const plan = JSON.parse(res.stdout) as Plan;
    const acme = plan.actions.filter((a) => a.target.orgId === ORG.acme && a.target.kind === 'tenant');
    expect(acme.map((a) => [a.kind, a.account, a.move])).toEqual([
      ['repair', 'main', { from: 'canary', to: 'main' }],
      ['delete', 'canary', { from: 'canary', to: 'main' }],
    ]);
    // The old cascade is AWS only: the tunnel and record stay for the new home.
    expect(acme[1]!.steps.map((s) => s.resource).filter((r) => r === 'tunnel' || r === 'dnsRecord')).toEqual([]);
    for (const a of acme) expect(a.blockedBy).toContain('maxDeletes');
    expect(plan.guards.find((g) => g.guard === 'maxDeletes')?.blocking).toBe(true);
    const text = await w.run(['plan']);
    expect(text.stdout).toContain('move canary → main (repair) tenant acme');
    expect(text.stdout).toContain('move canary → main (delete) tenant acme');
    const refused = await w.run(['apply', '--auto-approve']);
    expect(refused.code).toBe(3);
    expect(await orgsWithInstances(canary(get).check.ec2)).toEqual([ORG.acme]);
  });

  it('moves acme to main with the overrides: up in main, nothing left in the canary account', async () => {
    const { w, canary: c } = get();
    const res = await w.run(['apply', '--auto-approve', '--allow-deletes', '1', '--allow-replacements', '1']);
    expect(res.stderr).not.toMatch(/error/i);
    expect(res.code).toBe(0);
    expect(await orgInstances(w.check.ec2, ORG.acme)).toHaveLength(3);
    expect(await orgInstances(c.check.ec2, ORG.acme)).toEqual([]);
    expect(await orgGroups(c.check.ec2, ORG.acme)).toEqual([]);
    expect(await liveBundles(c.check.secrets, ORG.acme)).toEqual([]);
    expect(await liveBundles(w.check.secrets, ORG.acme)).toHaveLength(1);
    expect(w.cf.tunnels().filter((t) => t.name.includes(ORG.acme) && !t.deletedAt)).toHaveLength(1);
    expect((await w.run(['plan'])).code).toBe(0);
  });
});

function canary(get: () => { canary: CanaryAccount }): CanaryAccount {
  return get().canary;
}

describe('a canary tenant deleted in the canary account', () => {
  const get = world();

  it('leaves nothing of it in either account', async () => {
    const { w, canary: c } = get();
    expect((await w.run(['apply', '--auto-approve'])).code).toBe(0);
    expect(await orgInstances(c.check.ec2, ORG.acme)).toHaveLength(3);
    rmSync(join(w.dir, 'tenants', 'acme'), { recursive: true, force: true });
    const plan = JSON.parse((await w.run(['plan', '--json'])).stdout) as Plan;
    expect(plan.actions.map((a) => [a.kind, a.target.slug, a.account])).toEqual([['delete', 'acme', 'canary']]);
    const res = await w.run(['apply', '--auto-approve']);
    expect(res.code).toBe(0);
    for (const check of [c.check, w.check]) {
      expect(await orgInstances(check.ec2, ORG.acme)).toEqual([]);
      expect(await orgGroups(check.ec2, ORG.acme)).toEqual([]);
      expect(await liveBundles(check.secrets, ORG.acme)).toEqual([]);
    }
    expect(w.cf.tunnels().filter((t) => t.name.includes(ORG.acme) && !t.deletedAt)).toEqual([]);
    expect(w.cf.dnsRecords().filter((r) => r.name.startsWith('acme.'))).toEqual([]);
    expect(await orgsWithInstances(w.check.ec2)).toEqual(MAIN_ORGS);
  });
});

describe('a refused AssumeRole', () => {
  const get = world();

  it('plans the main tenants and nothing for the canary, naming the role (exit 1)', async () => {
    const { w, canary: c } = get();
    refuseAssumeRole(w.aws);
    const res = await w.run(['plan', '--json']);
    expect(res.code).toBe(1);
    const plan = JSON.parse(res.stdout) as Plan;
    expect(plan.actions.filter((a) => a.target.orgId === ORG.acme)).toEqual([]);
    expect(plan.actions.filter((a) => a.kind === 'create' && a.target.kind === 'tenant').map((a) => a.target.slug)).toEqual(['globex', 'initech', 'umbrella']);
    expect(plan.accounts?.canary).toMatchObject({ observed: false });
    const finding = plan.guards.find((g) => g.guard === 'account');
    expect(finding?.blocking).toBe(false);
    expect(finding?.message).toContain(c.roleArn);
    expect(finding?.message).toContain('acme');
    expect(finding?.message).toContain('AccessDenied');
    const text = await w.run(['plan']);
    expect(text.stdout).toContain('could not be observed');
    expect(text.stdout + text.stderr).not.toMatch(/\n\s+at /);
  });

  it('applies the main tenants and fails only the canary with one clear error, exit 4', async () => {
    const { w, canary: c } = get();
    const before = w.aws.calls.filter((x) => x.action === 'AssumeRole').length;
    const res = await w.run(['apply', '--auto-approve']);
    expect(res.code).toBe(4);
    expect(await orgsWithInstances(w.check.ec2)).toEqual(MAIN_ORGS);
    expect(await orgsWithInstances(c.check.ec2)).toEqual([]);
    const out = res.stdout + res.stderr;
    expect(out).toContain(c.roleArn);
    expect(out).not.toMatch(/\n\s+at /);
    // One refusal per run (the observation's), not one per client or SDK retry.
    expect(w.aws.calls.filter((x) => x.action === 'AssumeRole').length - before).toBeLessThanOrEqual(1);
    expect(w.runs().at(-1)).toMatchObject({ status: 'partial', exit_code: 4 });
  });
});

describe('the canary account at apply', () => {
  const get = world();

  it("checks the vCPU quota per account: the canary launches count against the canary account's quota only", async () => {
    const { w, canary: c } = get();
    const faithful = w.aws.faults.faithful;
    const before = faithful.ec2VcpuQuota;
    try {
      // 16 vCPUs planned in all: 10 in main (3 tenants, 2 workspaces), 6 in the canary account (acme and its 2 workspaces).
      faithful.ec2VcpuQuota = 12;
      const fits = await w.run(['plan', '--json']);
      expect(fits.code).toBe(2);
      const plan = JSON.parse(fits.stdout) as Plan;
      expect(plan.guards.filter((g) => g.guard === 'quota')).toEqual([]);
      expect(new Set(w.aws.calls.filter((x) => x.action === 'GetServiceQuota').map((x) => x.account))).toEqual(new Set([w.aws.accountId, c.accountId]));
      faithful.ec2VcpuQuota = 9;
      const over = JSON.parse((await w.run(['plan', '--json'])).stdout) as Plan;
      const quota = over.guards.filter((g) => g.guard === 'quota');
      expect(quota.map((g) => g.message)).toEqual([expect.stringContaining('0 live + 10 planned = 10, over the quota of 9')]);
      expect(quota[0]!.actionIds.some((id) => id.includes(ORG.acme))).toBe(false);
    } finally {
      faithful.ec2VcpuQuota = before;
    }
  });

  it('refuses a CANARY_VPC_ID the canary account does not know, naming the variable, before any change (exit 1)', async () => {
    const { w, canary: c } = get();
    w.env.CANARY_VPC_ID = 'vpc-0123456789abcdef0';
    try {
      const traffic = w.mark();
      const res = await w.run(['apply', '--auto-approve']);
      expect(res.code).toBe(1);
      expect(res.stderr).toContain('CANARY_VPC_ID vpc-0123456789abcdef0 does not exist');
      expect(res.stderr).not.toMatch(/\n\s+at /);
      // Nothing but the role's credentials was asked for: no create anywhere.
      const made = traffic();
      expect(made.cf).toEqual([]);
      expect(new Set(made.aws)).toEqual(new Set(['AssumeRole']));
    } finally {
      w.env.CANARY_VPC_ID = c.env.CANARY_VPC_ID!;
    }
  });

  it('rolls a canary image out over SSM in the canary account', async () => {
    const { w, canary: c } = get();
    expect((await w.run(['apply', '--auto-approve'])).code).toBe(0);
    const fleetFile = join(w.dir, 'fleet.yaml');
    writeFileSync(
      fleetFile,
      readFileSync(fleetFile, 'utf8').replace('canaryTenantImage: ghcr.io/example/platform:1.5.0-rc.1', 'canaryTenantImage: ghcr.io/example/platform:1.5.0-rc.2'),
    );
    const from = w.aws.calls.length;
    const res = await w.run(['apply', '--auto-approve']);
    expect(res.stderr).not.toMatch(/error/i);
    expect(res.code).toBe(0);
    const sends = w.aws.calls.slice(from).filter((x) => x.action === 'SendCommand');
    expect(sends.map((x) => x.account)).toEqual([c.accountId]);
    const instanceIds = (sends[0]!.params.InstanceIds as string[]) ?? [];
    expect(instanceIds).toEqual(await orgInstances(c.check.ec2, ORG.acme).then((ids) => ids.filter((id) => instanceIds.includes(id))));
    // From outside, in the canary account: the redeployed instance carries the new Image tag.
    const described = await c.check.ec2.send(new DescribeInstancesCommand({ InstanceIds: instanceIds }));
    const images = described.Reservations!.flatMap((r) => r.Instances!).map((i) => i.Tags?.find((t) => t.Key === 'Image')?.Value);
    expect(images).toEqual(instanceIds.map(() => 'ghcr.io/example/platform:1.5.0-rc.2'));
  });

  it('applies a saved plan whose canary actions meet a refused role: they fail with the role named, the rest are applied (exit 4)', async () => {
    const { w, canary: c } = get();
    rmSync(join(w.dir, 'tenants', 'globex'), { recursive: true, force: true });
    const tenantFile = join(w.dir, 'tenants', 'acme', 'tenant.yaml');
    writeFileSync(tenantFile, readFileSync(tenantFile, 'utf8').replace('power: running', 'power: stopped').replace('canary: true', 'canary: true\npower: stopped'));
    const planFile = join(w.dir, 'plan.json');
    const planned = await w.run(['plan', '--out', planFile]);
    expect(planned.code).toBe(2);
    const saved = JSON.parse(readFileSync(planFile, 'utf8')) as Plan;
    expect(saved.actions.map((a) => [a.kind, a.target.slug, a.account])).toEqual([
      ['stop', 'acme', 'canary'],
      ['delete', 'globex', 'main'],
    ]);
    const refusal = refuseAssumeRole(w.aws);
    try {
      const res = await w.run(['apply', planFile, '--auto-approve']);
      expect(res.code).toBe(4);
      const out = res.stdout + res.stderr;
      expect(out).toContain(c.roleArn);
      expect(out).not.toMatch(/\n\s+at /);
      expect(await orgInstances(w.check.ec2, ORG.globex)).toEqual([]);
      const acme = await c.check.ec2.send(
        new DescribeInstancesCommand({
          Filters: [
            { Name: 'tag:OrgID', Values: [ORG.acme] },
            { Name: 'tag:Role', Values: ['tenant'] },
          ],
        }),
      );
      expect((acme.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.State?.Name)).toEqual(['running']);
    } finally {
      refusal.remove();
    }
  });
});
