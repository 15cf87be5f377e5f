/**
 * `tenantform apply` end to end: the example fleet against moto (behind the fault proxy) and the
 * Cloudflare double, through `main`. Scenarios in one describe build on each other's world.
 */
import { cpSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeSecurityGroupsCommand, StopInstancesCommand } from '@aws-sdk/client-ec2';
import { DescribeSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChangeSet } from '../../src/apply/changeset.js';
import { secretName } from '../../src/contract.js';
import { ORG, startApplyWorld, tagsOf, ZONE, type ApplyWorld, type RunResult } from './apply-world.js';
import { writeForged } from './plan-forgery.js';

const REPO_ROOT = new URL('../../', import.meta.url).pathname;
const HOST = (slug: string) => `${slug}.tenants.${ZONE}`;

function world(): () => ApplyWorld {
  let w: ApplyWorld | undefined;
  beforeAll(async () => {
    w = await startApplyWorld();
  });
  afterAll(async () => {
    await w?.close();
  });
  return () => w!;
}

function restoreTenant(w: ApplyWorld, slug: string): void {
  cpSync(join(REPO_ROOT, 'tenants', slug), join(w.dir, 'tenants', slug), { recursive: true });
}

function editFleet(w: ApplyWorld, edit: (text: string) => string): void {
  const path = join(w.dir, 'fleet.yaml');
  writeFileSync(path, edit(readFileSync(path, 'utf8')));
}

async function liveOf(w: ApplyWorld, orgId: string, slug: string) {
  const instances = await w.instances(orgId);
  const groups = (await w.check.ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'tag:OrgID', Values: [orgId] }] }))).SecurityGroups ?? [];
  const secret = await w.check.secrets.send(new DescribeSecretCommand({ SecretId: secretName('dev', orgId) })).catch(() => undefined);
  const records = w.cf.dnsRecords().filter((r) => r.name === HOST(slug));
  const tunnels = w.cf.tunnels().filter((t) => t.name.endsWith(`.${slug}.${orgId}`) && !t.deletedAt);
  return { instances, groups, secret, records, tunnels };
}

describe('apply the example fleet, then change it', () => {
  const w = world();
  const outputs: RunResult[] = [];
  const run = async (args: string[], opts?: Parameters<ApplyWorld['run']>[1]) => {
    const res = await w().run(args, opts);
    outputs.push(res);
    return res;
  };

  it('creates every tenant and workspace as declared and records the run, exit 0', async () => {
    const res = await run(['apply', '--auto-approve']);
    expect(res.stderr).not.toMatch(/error/i);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('Apply: 8 ok, 0 failed, 0 skipped');

    const acme = await liveOf(w(), ORG.acme, 'acme');
    expect(acme.instances).toHaveLength(3);
    expect(acme.records).toHaveLength(1);
    expect(acme.tunnels).toHaveLength(1);
    expect(acme.secret?.DeletedDate).toBeUndefined();
    // Deletion protection is stamped on everything the planner compares it on.
    const tenantInstance = acme.instances.find((i) => tagsOf(i).Role === 'tenant')!;
    expect(tagsOf(tenantInstance).DeletionProtection).toBe('true');
    expect(tagsOf(acme.groups.find((g) => tagsOf(g).Role === 'tenant')!).DeletionProtection).toBe('true');
    expect(acme.secret?.Tags?.find((t) => t.Key === 'DeletionProtection')?.Value).toBe('true');

    const umbrella = await w().instances(ORG.umbrella);
    expect(umbrella.map((i) => i.State?.Name)).toEqual(['stopped']);
    const globexOps = (await w().instances(ORG.globex)).find((i) => tagsOf(i).Role === 'workspace')!;
    expect(globexOps.State?.Name).toBe('stopped');

    const rows = w().auditRows();
    const made = (kind: string) => rows.filter((r) => r.kind === kind && r.state === 'created' && JSON.parse(r.details ?? '{}').event === 'created');
    expect(made('instance')).toHaveLength(8);
    expect(made('tunnel')).toHaveLength(4);
    // Stops are instance lifecycle events too, filed as the (still claimed) instance with their event.
    expect(rows.filter((r) => r.kind === 'instance' && JSON.parse(r.details ?? '{}').event === 'stopped')).toHaveLength(2);
    expect(w().runs()).toEqual([{ status: 'succeeded', exit_code: 0, command: 'apply' }]);
    // Lookups that do not change per tenant are made once per run, not once per action.
    const once = (action: string) => w().aws.calls.filter((c) => c.action === action).length;
    expect(once('DescribeVpcs')).toBe(1);
    // The example fleet's three AMIs (the default and two runtime pins), described together by the wiring preflight.
    expect(once('DescribeImages')).toBe(1);
  });

  it('a second apply makes no mutating call', async () => {
    const traffic = w().mark();
    const res = await run(['apply', '--auto-approve']);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('No changes');
    expect(traffic()).toEqual({ aws: [], cf: [] });
  });

  it('removing a tenant folder removes everything of it, and the next apply is a no-op', async () => {
    rmSync(join(w().dir, 'tenants', 'globex'), { recursive: true });
    const res = await run(['apply', '--auto-approve']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/✓ delete\s+tenant globex/);

    const gone = await liveOf(w(), ORG.globex, 'globex');
    expect(gone.instances).toEqual([]);
    expect(gone.groups).toEqual([]);
    expect(gone.secret?.DeletedDate).toBeInstanceOf(Date);
    expect(gone.records).toEqual([]);
    expect(gone.tunnels).toEqual([]);
    expect((await w().instances(ORG.globex, ['terminated'])).length).toBe(2);
    expect(
      w()
        .auditRows()
        .filter((r) => r.org_id === ORG.globex && r.state === 'deleted')
        .map((r) => r.kind)
        .sort(),
    ).toEqual(['dnsRecord', 'instance', 'instance', 'secret', 'securityGroup', 'securityGroup', 'tunnel']);

    const traffic = w().mark();
    expect((await run(['apply', '--auto-approve'])).code).toBe(0);
    expect(traffic()).toEqual({ aws: [], cf: [] });
  });

  it('refuses to delete a tenant whose live resources carry DeletionProtection=true, even with its file gone', async () => {
    rmSync(join(w().dir, 'tenants', 'acme'), { recursive: true });
    const traffic = w().mark();
    const res = await run(['apply', '--auto-approve', '--allow-deletes', '5']);
    expect(res.code).toBe(3);
    expect(res.stderr).toMatch(/deletionProtection: tenant acme .*DeletionProtection=true/);
    expect(traffic()).toEqual({ aws: [], cf: [] });
    expect((await liveOf(w(), ORG.acme, 'acme')).instances).toHaveLength(3);
    restoreTenant(w(), 'acme');
  });

  it('refuses an empty repository: nothing is deleted', async () => {
    renameSync(join(w().dir, 'tenants'), join(w().dir, 'tenants.away'));
    const traffic = w().mark();
    const res = await run(['apply', '--auto-approve', '--allow-deletes', '10']);
    renameSync(join(w().dir, 'tenants.away'), join(w().dir, 'tenants'));
    expect(res.code).toBe(3);
    expect(res.stderr).toContain('emptyDesired');
    expect(traffic()).toEqual({ aws: [], cf: [] });
  });

  it('refuses more tenant deletes than guards.maxDeletes unless --allow-deletes covers them', async () => {
    editFleet(w(), (t) => t.replace('maxDeletes: 3', 'maxDeletes: 1'));
    rmSync(join(w().dir, 'tenants', 'initech'), { recursive: true });
    rmSync(join(w().dir, 'tenants', 'umbrella'), { recursive: true });

    const traffic = w().mark();
    const refused = await run(['apply', '--auto-approve']);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('2 tenant deletes exceed guards.maxDeletes (1); pass --allow-deletes 2');
    const tooFew = await run(['apply', '--auto-approve', '--allow-deletes', '1']);
    expect(tooFew.code).toBe(3);
    expect(traffic()).toEqual({ aws: [], cf: [] });

    const allowed = await run(['apply', '--auto-approve', '--allow-deletes', '2']);
    expect(allowed.code).toBe(0);
    expect(await w().instances(ORG.initech)).toEqual([]);
    expect(await w().instances(ORG.umbrella)).toEqual([]);
    expect(
      w()
        .runs()
        .filter((r) => r.status === 'refused').length,
    ).toBeGreaterThanOrEqual(4);
  });

  it('without a terminal it requires --auto-approve; on a terminal only "yes" applies', async () => {
    restoreTenant(w(), 'initech');
    const traffic = w().mark();
    const noTty = await run(['apply']);
    expect(noTty.code).toBe(1);
    expect(noTty.stderr).toContain('pass --auto-approve');
    const declined = await run(['apply'], { io: { isTTY: true, readLine: async () => 'y' } });
    expect(declined.code).toBe(1);
    expect(declined.stderr).toContain('apply cancelled; nothing was changed');
    expect(traffic()).toEqual({ aws: [], cf: [] });

    const prompts: string[] = [];
    const yes = await run(['apply'], { io: { isTTY: true, readLine: async (p) => (prompts.push(p), 'yes') } });
    expect(prompts).toHaveLength(1);
    expect(yes.code).toBe(0);
    expect(await w().instances(ORG.initech)).toHaveLength(2);
  });

  it('applies a saved plan, and refuses one the world or the repository moved under, naming what moved', async () => {
    const planFile = join(w().dir, 'plan.json');
    const tenantFile = join(w().dir, 'tenants', 'acme', 'tenant.yaml');
    writeFileSync(tenantFile, `${readFileSync(tenantFile, 'utf8')}instanceType: t3.medium\n`);
    expect((await run(['plan', '--out', planFile])).code).toBe(2);

    const acmeInstance = (await w().instances(ORG.acme)).find((i) => tagsOf(i).Role === 'tenant')!;
    await w().check.ec2.send(new StopInstancesCommand({ InstanceIds: [acmeInstance.InstanceId!] }));
    const traffic = w().mark();
    const stale = await run(['apply', planFile, '--auto-approve']);
    expect(stale.code).toBe(3);
    expect(stale.stderr).toContain('the plan is stale');
    expect(stale.stderr).toContain(`instance ${acmeInstance.InstanceId} changed since the plan`);
    expect(traffic()).toEqual({ aws: [], cf: [] });

    expect((await run(['plan', '--out', planFile])).code).toBe(2);
    const applied = await run(['apply', planFile, '--auto-approve', '--json']);
    expect(applied.code).toBe(0);
    const cs = JSON.parse(applied.stdout) as ChangeSet;
    expect(cs.results.map((r) => `${r.kind} ${r.target.slug} ${r.status}`)).toEqual(['resize acme ok']);
    const resized = (await w().instances(ORG.acme)).find((i) => i.InstanceId === acmeInstance.InstanceId)!;
    expect(resized.InstanceType).toBe('t3.medium');
    expect(resized.State?.Name).toBe('running');

    writeFileSync(tenantFile, readFileSync(tenantFile, 'utf8').replace('t3.medium', 't3.large'));
    expect((await run(['plan', '--out', planFile])).code).toBe(2);
    writeFileSync(tenantFile, readFileSync(tenantFile, 'utf8').replace('t3.large', 't3.xlarge'));
    const moved = await run(['apply', planFile, '--auto-approve']);
    expect(moved.code).toBe(3);
    expect(moved.stderr).toContain('the desired state changed since the plan');
  });

  it('refuses a saved plan made for another environment, changing nothing', async () => {
    const planFile = join(w().dir, 'plan-prod.json');
    // acme's instance type still differs from its file (the test above), so the plan has work in it.
    expect((await run(['plan', '--out', planFile])).code).toBe(2);
    const saved = JSON.parse(readFileSync(planFile, 'utf8')) as { environment: string };
    // Edited with its digest recomputed, so the environment check itself is what refuses it.
    writeForged(planFile, { ...saved, environment: 'prod' });

    const traffic = w().mark();
    const res = await run(['apply', planFile, '--auto-approve']);
    expect(res.code).toBe(3);
    expect(res.stderr).toContain('the plan is stale');
    expect(res.stderr).toContain('the plan was made for environment prod, the fleet declares dev');
    expect(traffic()).toEqual({ aws: [], cf: [] });
    expect(w().runs().at(-1)).toEqual({ status: 'refused', exit_code: 3, command: 'apply' });
  });

  it('refuses bad input with exit 1, a file:line:col message and no mutating call', async () => {
    const tenantFile = join(w().dir, 'tenants', 'initech', 'tenant.yaml');
    const original = readFileSync(tenantFile, 'utf8');
    const traffic = w().mark();

    writeFileSync(tenantFile, original.replace(/^orgId: .*$/m, 'orgId: not-a-uuid'));
    const broken = await run(['apply', '--auto-approve']);
    writeFileSync(tenantFile, original);
    expect(broken.code).toBe(1);
    expect(`${broken.stdout}${broken.stderr}`).toMatch(/tenants\/initech\/tenant\.yaml:\d+:\d+/);
    expect(broken.stderr).not.toMatch(/\n\s+at /); // no stack trace

    const planFile = join(w().dir, 'corrupt-plan.json');
    writeFileSync(planFile, '{"formatVersion": 1, "actions": "all of them"}');
    const corrupt = await run(['apply', planFile, '--auto-approve']);
    expect(corrupt.code).toBe(1);
    expect(corrupt.stderr).toContain('corrupt-plan.json');

    const { SECRETS_ENCRYPTION_KEY: _dropped, ...unwired } = w().env;
    const noKey = await run(['apply', '--auto-approve'], { io: { env: unwired } });
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toContain('SECRETS_ENCRYPTION_KEY');

    expect(traffic()).toEqual({ aws: [], cf: [] });
  });

  it('never lets a secret into stdout, stderr or the audit database', async () => {
    const bundle = JSON.parse((await w().check.secrets.send(new GetSecretValueCommand({ SecretId: secretName('dev', ORG.acme) }))).SecretString!) as Record<
      string,
      string
    >;
    const secrets = [...w().envSecrets, bundle.DB_PASSWORD!, bundle.ADMIN_TOKEN!, bundle.TUNNEL_TOKEN!];
    expect(secrets.every((s) => s.length >= 16)).toBe(true);
    const text = outputs.map((o) => o.stdout + o.stderr).join('\n') + w().auditText();
    expect(outputs.length).toBeGreaterThan(10);
    for (const s of secrets) expect(text.includes(s), `a secret leaked (${s.slice(0, 4)}…)`).toBe(false);
  });
});
