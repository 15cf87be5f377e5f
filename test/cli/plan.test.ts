import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateSecurityGroupCommand } from '@aws-sdk/client-ec2';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { memoryIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { dnsComment, secretName, tenantSecurityGroupName, tunnelName } from '../../src/contract.js';
import { loadFleet } from '../../src/desired/load.js';
import type { DesiredState } from '../../src/desired/model.js';
import { readPlanFile } from '../../src/plan/file.js';
import type { Plan } from '../../src/plan/model.js';
import { commitAll, seedSpec, writeFleet, writeTenant, type FleetTenant } from '../live/fleet.js';
import { APP_DOMAIN, startLiveHarness, type LiveHarness } from '../live/harness.js';
import { seedTenant, type TenantPart } from '../live/seed.js';

const TENANTS: FleetTenant[] = [
  {
    slug: 'acme',
    orgId: '5f0c6a52-3b1e-4c8e-9a57-2d41e8a0b001',
    canary: true,
    workspaces: [
      { name: 'research', id: '0b8e4f7a-61c2-4d3e-8f90-a1b2c3d4e001', runtime: 'hermes', tier: 'T4' },
      { name: 'support', id: '0b8e4f7a-61c2-4d3e-8f90-a1b2c3d4e002', runtime: 'claude-code', tier: 'T3' },
    ],
  },
  {
    slug: 'globex',
    orgId: '5f0c6a52-3b1e-4c8e-9a57-2d41e8a0b002',
    workspaces: [{ name: 'ops', id: '0b8e4f7a-61c2-4d3e-8f90-a1b2c3d4e003', runtime: 'claude-code', tier: 'T4' }],
  },
  { slug: 'initech', orgId: '5f0c6a52-3b1e-4c8e-9a57-2d41e8a0b003', power: 'stopped', workspaces: [] },
];
const GONE: FleetTenant = {
  slug: 'hooli',
  orgId: '5f0c6a52-3b1e-4c8e-9a57-2d41e8a0b0ff',
  workspaces: [{ name: 'lab', id: '0b8e4f7a-61c2-4d3e-8f90-a1b2c3d4e0ff', runtime: 'hermes', tier: 'T4' }],
};

const dirs: string[] = [];
function fleetRepo(tenants: readonly FleetTenant[] = TENANTS): string {
  const dir = mkdtempSync(join(tmpdir(), 'tenantform-plan-'));
  dirs.push(dir);
  writeFleet(dir, APP_DOMAIN, tenants);
  return dir;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function desiredOf(dir: string, env: Record<string, string>): Promise<DesiredState> {
  const { state, diagnostics } = await loadFleet(dir, { env });
  if (!state) throw new Error(`test fleet does not load: ${JSON.stringify(diagnostics)}`);
  return state;
}

async function plan(h: LiveHarness, dir: string, args: string[] = [], env: Record<string, string> = {}) {
  const io = memoryIo({ env: { ...h.env, ...env }, cwd: dir });
  const code = await main(['plan', '--json', ...args], io);
  const stdout = io.out.join('');
  return { code, stdout, stderr: io.err.join(''), plan: code === 1 ? undefined : (JSON.parse(stdout) as Plan) };
}

function kindsByTarget(p: Plan): string[] {
  return p.actions.map((a) => `${a.kind} ${a.target.slug}${a.target.workspaceName ? `/${a.target.workspaceName}` : ''}`).sort();
}

/** A fresh AWS account and Cloudflare double per scenario, so scenarios never see each other. */
function world(): { h: () => LiveHarness } {
  let h: LiveHarness | undefined;
  beforeAll(async () => {
    h = await startLiveHarness();
  });
  afterAll(async () => {
    await h?.close();
  });
  return { h: () => h! };
}

describe('plan against an empty cloud', () => {
  const w = world();
  it('creates every tenant and workspace, exit 2', async () => {
    const res = await plan(w.h(), fleetRepo());
    expect(res.stderr).toBe('');
    expect(res.code).toBe(2);
    expect(kindsByTarget(res.plan!)).toEqual(['create acme', 'create acme/research', 'create acme/support', 'create globex', 'create globex/ops', 'create initech']);
  });

  it('waits out a throttled Cloudflare listing and plans the same, exit 2', async () => {
    const h = w.h();
    h.cf.faults.add({ kind: 'rate-limit', path: /cfd_tunnel/, retryAfterSeconds: 0 });
    const cfBefore = h.cf.requests.length;
    const res = await plan(h, fleetRepo());
    expect(res.code).toBe(2);
    expect(res.plan!.summary.create).toBe(6);
    // One listing per Cloudflare resource kind, plus the one retry of the throttled tunnel listing,
    // plus the quota check's two per_page=1 counts (the plan creates tunnels and records; the
    // quotas count the whole account and zone, which the filtered listings do not show).
    expect(h.cf.requests.length - cfBefore).toBe(5);
  });
});

describe('plan --json from the built CLI', () => {
  const w = world();
  it('keeps the AWS SDK’s Node-version warning on stderr: stdout is the plan JSON alone', async () => {
    const env: Record<string, string> = { PATH: process.env.PATH ?? '', ...w.h().env };
    delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED; // the warning as operators on Node 20 get it
    const bin = new URL('../../bin/tenantform.js', import.meta.url).pathname;
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
      execFile(process.execPath, [bin, 'plan', '--json'], { cwd: fleetRepo(), env }, (err, out, errOut) =>
        done({ code: typeof err?.code === 'number' ? err.code : 0, stdout: out, stderr: errOut }),
      );
    });
    expect(code).toBe(2);
    expect((JSON.parse(stdout) as Plan).summary.create).toBe(6);
    if (Number(process.versions.node.split('.')[0]) < 22) expect(stderr).toContain('NodeVersionSupportWarning');
  });
});

describe('plan against a fully provisioned fleet', () => {
  const w = world();
  let dir: string;
  beforeAll(async () => {
    dir = fleetRepo();
    const h = w.h();
    const desired = await desiredOf(dir, h.env);
    for (const t of desired.tenants) await seedTenant(h.target('dev'), seedSpec(t));
    // The same tenants in another environment, in the same account and zone: never listed or touched.
    for (const t of desired.tenants) await seedTenant(h.target('staging'), seedSpec(t));
  });

  it('has nothing to do, exit 0, using list calls only', async () => {
    const h = w.h();
    const awsBefore = h.aws.calls.length;
    const cfBefore = h.cf.requests.length;
    const res = await plan(h, dir);
    expect(res.stderr).toBe('');
    expect(res.plan!.actions).toEqual([]);
    expect(res.code).toBe(0);
    expect(new Set(h.aws.calls.slice(awsBefore).map((c) => c.action))).toEqual(
      new Set(['DescribeInstances', 'DescribeSecurityGroups', 'DescribeVolumes', 'ListSecrets']),
    );
    expect(h.cf.requests.slice(cfBefore).every((r) => r.method === 'GET')).toBe(true);
  });

  it('renders text and markdown from the same plan', async () => {
    const h = w.h();
    const text = memoryIo({ env: h.env, cwd: dir });
    expect(await main(['plan'], text)).toBe(0);
    expect(text.out.join('')).not.toBe('');
    const md = memoryIo({ env: h.env, cwd: dir });
    expect(await main(['plan', '--markdown'], md)).toBe(0);
    expect(md.out.join('')).not.toEqual(text.out.join(''));
  });
});

describe('plan against partial tenants', () => {
  const w = world();
  const missing: Record<string, TenantPart> = { acme: 'tunnel', globex: 'dnsRecord', initech: 'secret' };
  let dir: string;
  beforeAll(async () => {
    dir = fleetRepo([
      ...TENANTS,
      { slug: 'nosg', orgId: '5f0c6a52-3b1e-4c8e-9a57-2d41e8a0b004', workspaces: [] },
      { slug: 'novm', orgId: '5f0c6a52-3b1e-4c8e-9a57-2d41e8a0b005', workspaces: [] },
    ]);
    Object.assign(missing, { nosg: 'securityGroup', novm: 'instance' });
    const h = w.h();
    const desired = await desiredOf(dir, h.env);
    for (const t of desired.tenants) {
      const skip = missing[t.spec.slug]!;
      const parts = (['tunnel', 'dnsRecord', 'secret', 'securityGroup', 'instance'] as TenantPart[]).filter((p) => p !== skip);
      await seedTenant(h.target('dev'), seedSpec(t), { parts });
    }
  });

  it('repairs each tenant with the step it lacks, exit 2', async () => {
    const res = await plan(w.h(), dir);
    expect(res.code).toBe(2);
    const tenantActions = res.plan!.actions.filter((a) => a.target.kind === 'tenant');
    expect(tenantActions.map((a) => `${a.kind} ${a.target.slug}`).sort()).toEqual(['repair acme', 'repair globex', 'repair initech', 'repair nosg', 'repair novm']);
    const stepsOf = (slug: string) =>
      tenantActions
        .find((a) => a.target.slug === slug)!
        .steps.filter((s) => s.op === 'create')
        .map((s) => s.resource);
    expect(stepsOf('acme')).toContain('tunnel');
    expect(stepsOf('globex')).toContain('dnsRecord');
    expect(stepsOf('initech')).toContain('secret');
    expect(stepsOf('nosg')).toContain('securityGroup');
    expect(stepsOf('novm')).toContain('instance');
    // Workspaces were fully seeded: nothing to do for them.
    expect(res.plan!.actions.filter((a) => a.target.kind === 'workspace')).toEqual([]);
  });
});

describe('plan with a removed tenant', () => {
  const w = world();
  let dir: string;
  beforeAll(async () => {
    const h = w.h();
    const full = fleetRepo([...TENANTS, GONE, { ...GONE, slug: 'vault', orgId: '5f0c6a52-3b1e-4c8e-9a57-2d41e8a0b0fe', deletionProtection: true, workspaces: [] }]);
    const desired = await desiredOf(full, h.env);
    for (const t of desired.tenants) await seedTenant(h.target('dev'), seedSpec(t));
    dir = fleetRepo([...TENANTS, { ...GONE, slug: 'vault', orgId: '5f0c6a52-3b1e-4c8e-9a57-2d41e8a0b0fe', deletionProtection: true, workspaces: [] }]);
  });

  it('lists the delete with its whole cascade, exit 2', async () => {
    const res = await plan(w.h(), dir);
    expect(res.code).toBe(2);
    expect(kindsByTarget(res.plan!)).toEqual(['delete hooli']);
    const del = res.plan!.actions[0]!;
    expect(del.steps.map((s) => `${s.op} ${s.resource}`)).toEqual(
      expect.arrayContaining(['delete instance', 'delete securityGroup', 'delete secret', 'delete dnsRecord', 'delete tunnel']),
    );
    // The workspace instance goes first, before the tenant's own instance.
    expect(del.steps.findIndex((s) => s.resource === 'instance' && s.workspaceId)).toBeLessThan(del.steps.findIndex((s) => s.resource === 'instance' && !s.workspaceId));
  });

  it('refuses to delete a protected tenant even after its files are gone, exit 3', async () => {
    const dirWithoutVault = fleetRepo([...TENANTS]);
    const res = await plan(w.h(), dirWithoutVault);
    expect(res.code).toBe(3);
    const guard = res.plan!.guards.find((g) => g.guard === 'deletionProtection')!;
    expect(guard.blocking).toBe(true);
    const vaultDelete = res.plan!.actions.find((a) => a.target.slug === 'vault')!;
    expect(vaultDelete.kind).toBe('delete');
    expect(vaultDelete.blockedBy).toContain('deletionProtection');
  });
});

describe('plan inputs, outputs and errors', () => {
  const w = world();
  afterEach(() => undefined);

  it('saves the plan with its commit, desired hash and live fingerprints (--out)', async () => {
    const h = w.h();
    const dir = fleetRepo();
    const commit = await commitAll(dir, 'fleet');
    const desired = await desiredOf(dir, h.env);
    await seedTenant(h.target('dev'), seedSpec(desired.tenants.find((t) => t.spec.slug === 'globex')!));
    const out = join(dir, 'plan.json');
    const res = await plan(h, dir, ['--out', out]);
    expect(res.code).toBe(2);
    const saved = await readPlanFile(out);
    expect(saved.basis.commit).toBe(commit);
    expect(saved.basis.desiredHash).toBe(desired.hash);
    expect(Object.keys(saved.basis.fingerprints).length).toBeGreaterThan(0);
    expect(saved.actions).toEqual(res.plan!.actions);
  });

  it('exits 1 with the diagnostics for an invalid fleet, before any cloud call', async () => {
    const h = w.h();
    const dir = fleetRepo();
    writeFileSync(join(dir, 'tenants', 'acme', 'tenant.yaml'), 'apiVersion: tenantform.dev/v1\nkind: Tenant\nslug: acme\n');
    const awsBefore = h.aws.calls.length;
    const io = memoryIo({ env: h.env, cwd: dir });
    expect(await main(['plan'], io)).toBe(1);
    expect(io.err.join('')).toContain('tenants/acme/tenant.yaml');
    expect(h.aws.calls.length).toBe(awsBefore);
  });

  it('exits 1 when MOLECULE_ENV names another environment than fleet.yaml', async () => {
    const h = w.h();
    const io = memoryIo({ env: { ...h.env, MOLECULE_ENV: 'prod' }, cwd: fleetRepo() });
    expect(await main(['plan'], io)).toBe(1);
    expect(io.err.join('')).toContain('MOLECULE_ENV');
  });

  it('runs without the apply-only secrets in its environment, and never prints a secret', async () => {
    const h = w.h();
    const io = memoryIo({ env: { ...h.env, SECRETS_ENCRYPTION_KEY: 'super-secret-key-123' }, cwd: fleetRepo() });
    expect(await main(['plan', '--json'], io)).toBe(2);
    const all = io.out.join('') + io.err.join('');
    expect(all).not.toContain('super-secret-key-123');
    expect(all).not.toContain(h.cf.apiToken);
    expect(() => JSON.parse(io.out.join(''))).not.toThrow();
  });
});

describe('plan --changed-since (a pull request)', () => {
  const w = world();
  let dir: string;
  let base: string;
  beforeAll(async () => {
    const h = w.h();
    dir = fleetRepo([...TENANTS, GONE]);
    const desired = await desiredOf(dir, h.env);
    for (const t of desired.tenants) await seedTenant(h.target('dev'), seedSpec(t));
    base = await commitAll(dir, 'fleet as provisioned');
  });

  it('plans and observes only the tenant whose files changed, in at most a dozen calls', async () => {
    const h = w.h();
    writeTenant(dir, {
      ...TENANTS[1]!,
      workspaces: [...TENANTS[1]!.workspaces, { name: 'new', id: '0b8e4f7a-61c2-4d3e-8f90-a1b2c3d4e0aa', runtime: 'hermes', tier: 'T4' }],
    });
    const awsBefore = h.aws.calls.length;
    const cfBefore = h.cf.requests.length;
    const res = await plan(h, dir, ['--changed-since', base]);
    const calls = h.aws.calls.length - awsBefore + (h.cf.requests.length - cfBefore);
    expect(res.code).toBe(2);
    expect(kindsByTarget(res.plan!)).toEqual(['create globex/new']);
    expect(res.plan!.basis.changedSince).toBe(base);
    expect(res.plan!.basis.scope).toEqual({ kind: 'tenants', orgIds: [TENANTS[1]!.orgId], slugs: ['globex'] });
    // 6 to observe, and 3 for the vCPU quota the new workspace's launch is checked against
    // (GetServiceQuota, DescribeInstances of the running instances, DescribeInstanceTypes).
    expect(calls).toBe(9);
  });

  it('includes a deleted tenant’s directory in the scope and plans its cascade', async () => {
    rmSync(join(dir, 'tenants', GONE.slug), { recursive: true });
    const res = await plan(w.h(), dir, ['--changed-since', base]);
    expect(res.code).toBe(2);
    expect(kindsByTarget(res.plan!)).toEqual(['create globex/new', 'delete hooli']);
  });

  it('widens to every tenant when fleet.yaml changed', async () => {
    writeFileSync(join(dir, 'fleet.yaml'), readFileSync(join(dir, 'fleet.yaml'), 'utf8') + '# touched\n');
    const res = await plan(w.h(), dir, ['--changed-since', base]);
    expect(res.plan!.basis.scope).toEqual({ kind: 'all' });
    expect(kindsByTarget(res.plan!)).toEqual(['create globex/new', 'delete hooli']);
  });

  it('plans the cascade of a pull request that only removes a tenant, touching no other tenant', async () => {
    const head = await commitAll(dir, 'earlier pull requests merged');
    rmSync(join(dir, 'tenants', 'initech'), { recursive: true });
    const res = await plan(w.h(), dir, ['--changed-since', head]);
    expect(res.code).toBe(2);
    expect(res.plan!.guards.filter((g) => g.blocking)).toEqual([]);
    expect(kindsByTarget(res.plan!)).toEqual(['delete initech']);
    expect(res.plan!.basis.scope).toEqual({ kind: 'tenants', orgIds: [TENANTS[2]!.orgId], slugs: ['initech'] });
  });

  it('exits 1 for a ref that does not exist', async () => {
    const io = memoryIo({ env: w.h().env, cwd: dir });
    expect(await main(['plan', '--changed-since', 'no-such-ref'], io)).toBe(1);
    expect(io.err.join('')).toContain('no-such-ref');
  });
});

describe('plan --changed-since observes the scoped tenants as a full plan does', () => {
  const w = world();
  type Leftover = 'untaggedSecret' | 'untaggedGroup' | 'tunnel' | 'dnsRecord';
  const KINDS: Leftover[] = ['untaggedSecret', 'untaggedGroup', 'tunnel', 'dnsRecord'];
  /** Every non-empty combination of leftovers, one new tenant each. */
  const COMBOS: Leftover[][] = Array.from({ length: 2 ** KINDS.length - 1 }, (_, i) => KINDS.filter((_, k) => ((i + 1) >> k) & 1));
  let dir: string;
  let n = 0;

  beforeAll(async () => {
    const h = w.h();
    dir = fleetRepo();
    const desired = await desiredOf(dir, h.env);
    for (const t of desired.tenants) await seedTenant(h.target('dev'), seedSpec(t));
    await commitAll(dir, 'fleet as provisioned');
  });

  /** Pre-creates the leftovers of a tenant by hand (untagged where the kind says so), then declares it. */
  async function leftoverTenant(kinds: readonly Leftover[]): Promise<FleetTenant> {
    const h = w.h();
    const t = h.target('dev');
    n += 1;
    const tenant: FleetTenant = { slug: `left${n}`, orgId: `5f0c6a52-3b1e-4c8e-9a57-${String(n).padStart(12, '0')}`, workspaces: [] };
    let tunnelId = '00000000-0000-4000-8000-000000000000';
    if (kinds.includes('untaggedSecret')) {
      await t.secrets.send(new CreateSecretCommand({ Name: secretName('dev', tenant.orgId), SecretString: '{}' }));
    }
    if (kinds.includes('untaggedGroup')) {
      await t.ec2.send(new CreateSecurityGroupCommand({ GroupName: tenantSecurityGroupName('dev', tenant.orgId), Description: 'by hand', VpcId: t.vpcId }));
    }
    if (kinds.includes('tunnel')) {
      tunnelId = (
        await t.cloudflare.client.zeroTrust.tunnels.cloudflared.create({
          account_id: t.cloudflare.accountId,
          name: tunnelName('dev', tenant.slug, tenant.orgId),
          config_src: 'cloudflare',
        })
      ).id!;
    }
    if (kinds.includes('dnsRecord')) {
      await t.cloudflare.client.dns.records.create({
        zone_id: t.cloudflare.zoneId,
        type: 'CNAME',
        name: `${tenant.slug}.${APP_DOMAIN}`,
        content: `${tunnelId}.cfargotunnel.com`,
        ttl: 1,
        proxied: true,
        comment: dnsComment('dev', tenant.orgId, tenant.slug),
      });
    }
    writeTenant(dir, tenant);
    return tenant;
  }

  async function compareScopedWithFull(combos: Leftover[][]): Promise<Map<string, string[]>> {
    const h = w.h();
    const added = [];
    for (const kinds of combos) added.push({ kinds, tenant: await leftoverTenant(kinds) });
    await commitAll(dir, `add ${added.length} tenants over leftovers`);
    const scoped = await plan(h, dir, ['--changed-since', 'HEAD~1']);
    const full = await plan(h, dir);
    expect(scoped.code).toBe(2);
    expect(full.code).toBe(2);
    const orgs = new Set(added.map((a) => a.tenant.orgId));
    const of = (p: Plan) => p.actions.filter((a) => orgs.has(a.target.orgId));
    // Full plan: only tenants declared over leftovers (these and earlier rounds') have anything to do.
    expect(full.plan!.actions.filter((a) => !a.target.slug.startsWith('left'))).toEqual([]);
    expect(scoped.plan!.basis.scope).toMatchObject({ kind: 'tenants', slugs: added.map((a) => a.tenant.slug).sort() });
    expect(of(scoped.plan!)).toEqual(of(full.plan!));
    return new Map(
      added.map((a) => [
        a.kinds.join('+'),
        of(full.plan!)
          .filter((x) => x.target.orgId === a.tenant.orgId)
          .map((x) => x.kind),
      ]),
    );
  }

  it('plans the same actions for an untagged bundle left under the contract name (the reported case)', async () => {
    const kinds = await compareScopedWithFull([['untaggedSecret']]);
    expect(kinds.get('untaggedSecret')).toEqual(['repair', 'update']);
  });

  it('plans the same actions for every combination of leftovers, per-slug and environment-wide lookups alike', async () => {
    // Three tenants: Cloudflare is asked per slug (≤ 5); then the eleven combinations at once: one listing of the environment.
    const single = COMBOS.filter((c) => c.length === 1 && c[0] !== 'untaggedSecret');
    await compareScopedWithFull(single);
    const rest = COMBOS.filter((c) => c.length > 1);
    expect(single.length + rest.length).toBe(COMBOS.length - 1);
    await compareScopedWithFull(rest);
  });
});
