/**
 * `tenantform import` against a fleet the old control plane made (seeded from outside with the SDK
 * clients, test/support/control-plane-seed.ts): moto behind the fault proxy and the Cloudflare
 * double. Checked from outside: the files written, the tags, names and bundle after adoption,
 * the proxy's request log (nothing created but the bundle's copy, nothing deleted), and that no
 * secret reaches any output.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeInstancesCommand, DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
import { GetSecretValueCommand, ListSecretsCommand } from '@aws-sdk/client-secrets-manager';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretName, tunnelName } from '../../src/contract.js';
import { memoryIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { loadCommands } from '../../src/cli/commands.js';
import { openAuditStore } from '../../src/store/index.js';
import { startAwsEmulator, type AwsEmulator, type AwsTestClients } from '../support/aws.js';
import { startCloudflareDouble, type CloudflareDouble } from '../support/cloudflare-double/index.js';
import { CP_BUNDLE_TEMPLATE, seedControlPlaneTenant, type SeededTenant } from '../support/control-plane-seed.js';

const REPO_ROOT = new URL('../../', import.meta.url).pathname;
const APP_DOMAIN = 'tenants.example.dev';
const ORG = {
  acme: '7a0c6a52-3b1e-4c8e-9a57-2d41e8a0c001',
  globex: '7a0c6a52-3b1e-4c8e-9a57-2d41e8a0c002',
  initech: '7a0c6a52-3b1e-4c8e-9a57-2d41e8a0c003',
  umbrella: '7a0c6a52-3b1e-4c8e-9a57-2d41e8a0c004',
};
const WS = { acmeHermes: '9b8e4f7a-61c2-4d3e-8f90-a1b2c3d4f001', umbrellaWs: '9b8e4f7a-61c2-4d3e-8f90-a1b2c3d4f004' };
const BUNDLE = ['--bundle-name', CP_BUNDLE_TEMPLATE];

let aws: AwsEmulator;
let cf: CloudflareDouble;
let check: AwsTestClients;
let dir: string;
let env: Record<string, string>;
/** The audit database every command here uses (as $TENANTFORM_DB). */
let db: string;
const outputs: string[] = [];

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = memoryIo({ env, cwd: dir });
  const code = await main(args, io, await loadCommands(args));
  const res = { code, stdout: io.out.join(''), stderr: io.err.join('') };
  outputs.push(res.stdout, res.stderr);
  return res;
}

function tagsOf(x: { Tags?: Array<{ Key?: string; Value?: string }> }): Record<string, string> {
  return Object.fromEntries((x.Tags ?? []).map((t) => [t.Key!, t.Value!]));
}
async function instance(id: string) {
  return (await check.ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!;
}
async function secretValue(name: string): Promise<string | undefined> {
  return (await check.secrets.send(new GetSecretValueCommand({ SecretId: name }))).SecretString;
}
/** Every call the product made from `from` on (the test's own reads are not mutating). */
function mutations(from: { aws: number; cf: number }): { aws: string[]; cf: string[] } {
  return {
    aws: aws.calls
      .slice(from.aws)
      .filter((c) => c.mutating)
      .map((c) => c.action),
    cf: cf.requests
      .slice(from.cf)
      .filter((r) => r.method !== 'GET')
      .map((r) => `${r.method} ${r.path}`),
  };
}
const mark = () => ({ aws: aws.calls.length, cf: cf.requests.length });

beforeAll(async () => {
  aws = await startAwsEmulator();
  cf = await startCloudflareDouble({ zoneName: 'example.dev' });
  check = aws.clients();
  dir = mkdtempSync(join(tmpdir(), 'tenantform-import-'));
  cpSync(join(REPO_ROOT, 'fleet.yaml'), join(dir, 'fleet.yaml'));
  cpSync(join(REPO_ROOT, 'schemas'), join(dir, 'schemas'), { recursive: true });
  db = join(dir, 'audit.db');
  env = { ...aws.env, ...cf.env, TENANTFORM_DB: db };
});
afterAll(async () => {
  await aws?.close();
  await cf?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('tenantform import', () => {
  let acme: SeededTenant;
  let globex: SeededTenant;
  const start = { aws: 0, cf: 0 };

  it('says so and exits 0 when the account holds nothing to import, and writes nothing', async () => {
    const listed = await run(['import', ...BUNDLE]);
    expect([listed.code, listed.stdout]).toEqual([0, expect.stringContaining('Nothing to import in environment dev')]);
    const written = await run(['import', '--write', ...BUNDLE]);
    expect(written.code).toBe(0);
    expect(written.stdout).toContain('Nothing to import');
    expect(existsSync(join(dir, 'tenants'))).toBe(false);
  });

  it('refuses a bundle name without an {orgId} placeholder (exit 1, nothing read)', async () => {
    const res = await run(['import', '--bundle-name', 'molecule/bootstrap']);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('--bundle-name');
  });

  it('--write generates the files of complete tenants, lists incomplete resources per resource, never overwrites', async () => {
    const world = { aws, check, cf, env: 'dev', appDomain: APP_DOMAIN };
    acme = await seedControlPlaneTenant(world, {
      orgId: ORG.acme,
      slug: 'acme',
      workspaces: [{ workspaceId: WS.acmeHermes, runtime: 'hermes', instanceType: 't3.large', volumeGb: 80 }],
    });
    globex = await seedControlPlaneTenant(world, { orgId: ORG.globex, slug: 'globex' });
    const initech = await seedControlPlaneTenant(world, { orgId: ORG.initech, slug: 'initech', omitTags: ['TunnelID'] });
    const umbrella = await seedControlPlaneTenant(world, {
      orgId: ORG.umbrella,
      slug: 'umbrella',
      workspaces: [{ workspaceId: WS.umbrellaWs, runtime: 'hermes', instanceType: 't3.large', volumeGb: 80 }],
    });
    // The control plane failed half-way: umbrella's workspace instance lost its Runtime tag.
    const { DeleteTagsCommand } = await import('@aws-sdk/client-ec2');
    await check.ec2.send(new DeleteTagsCommand({ Resources: [umbrella.workspaces[0]!.instanceId], Tags: [{ Key: 'Runtime' }] }));
    // An operator already wrote globex's file by hand: it is never overwritten.
    const handWritten = `apiVersion: tenantform.dev/v1\nkind: Tenant\nslug: globex\norgId: ${ORG.globex}\n# written by hand\n`;
    mkdirSync(join(dir, 'tenants', 'globex'), { recursive: true });
    writeFileSync(join(dir, 'tenants', 'globex', 'tenant.yaml'), handWritten);
    Object.assign(start, mark());

    const res = await run(['import', '--write', ...BUNDLE]);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain(`instance ${initech.instanceId} (org ${ORG.initech}): missing tag TunnelID`);
    expect(res.stdout).toContain(`workspace instance ${umbrella.workspaces[0]!.instanceId} (org ${ORG.umbrella}): missing tag Runtime`);
    expect(res.stdout).toContain('tenants/globex/tenant.yaml');
    expect(readFileSync(join(dir, 'tenants', 'globex', 'tenant.yaml'), 'utf8')).toBe(handWritten);
    expect(readdirSync(join(dir, 'tenants')).sort()).toEqual(['acme', 'globex']);

    expect(readFileSync(join(dir, 'tenants/acme/tenant.yaml'), 'utf8')).toBe(
      [
        '# yaml-language-server: $schema=../../schemas/tenant.schema.json',
        '# Imported from the control plane by `tenantform import`.',
        'apiVersion: tenantform.dev/v1',
        'kind: Tenant',
        'slug: acme',
        `orgId: ${ORG.acme}`,
        'power: running',
        '',
      ].join('\n'),
    );
    expect(readFileSync(join(dir, 'tenants/acme/workspaces/hermes-9b8e4f7a.yaml'), 'utf8')).toBe(
      [
        '# yaml-language-server: $schema=../../../schemas/workspace.schema.json',
        '# Imported from the control plane by `tenantform import`.',
        'apiVersion: tenantform.dev/v1',
        'kind: Workspace',
        `id: ${WS.acmeHermes}`,
        'runtime: hermes',
        'tier: T4',
        'power: running',
        '',
      ].join('\n'),
    );
    const validated = await run(['validate']);
    expect(validated.stderr).toBe('');
    expect(validated.code).toBe(0);
    // A second --write writes nothing: every importable tenant's file exists now.
    const again = await run(['import', '--write', ...BUNDLE]);
    expect(again.code).toBe(1);
    expect(again.stdout).not.toContain('Written:');
    expect(mutations(start)).toEqual({ aws: [], cf: [] });
  });

  it('--adopt refuses (exit 3) when the plan after adoption is not empty, and without a terminal or --auto-approve (exit 1); nothing changes', async () => {
    const refused = await run(['import', '--adopt', '--auto-approve', ...BUNDLE]);
    expect(refused.code).toBe(3);
    expect(refused.stdout).toContain('Adoption plan');
    expect(refused.stdout).toContain('is not empty, so nothing is adopted');
    expect(refused.stdout).toMatch(/redeploy/);
    const unconfirmed = await run(['import', '--adopt', '--assume-declared-images', ...BUNDLE]);
    expect(unconfirmed.code).toBe(1);
    expect(unconfirmed.stderr).toContain('--auto-approve');
    expect(mutations(start)).toEqual({ aws: [], cf: [] });
  });

  it('--adopt never runs beside an apply: a held lease refuses it (exit 3) naming the holder, before any mutating call', async () => {
    const store = await openAuditStore(db);
    const holder = { host: 'ci-runner-elsewhere', pid: 4242, runId: 'apply-run-holding-dev', startedAt: new Date().toISOString() };
    try {
      expect((await store.acquireLease('dev', holder, 600_000, { holderGone: () => false })).acquired).toBe(true);
      const from = mark();
      const res = await run(['import', '--adopt', '--auto-approve', '--assume-declared-images', ...BUNDLE]);
      expect(res.code).toBe(3);
      expect(res.stderr).toContain('apply-run-holding-dev');
      expect(res.stderr).toContain('ci-runner-elsewhere');
      expect(mutations(from)).toEqual({ aws: [], cf: [] });
      expect(tagsOf(await instance(acme.instanceId)).ManagedBy).toBeUndefined();
    } finally {
      await store.releaseLease('dev', holder);
      await store.close();
    }
  });

  it('--adopt stopped by a failure half-way resumes on the next run and converges; the next plan is clean', async () => {
    // The third tag call fails on every SDK attempt: two resources are stamped, the rest are not.
    const fault = aws.faults.inject({ kind: 'serverError', service: 'ec2', action: 'CreateTags', after: 2, count: 3 });
    const failed = await run(['import', '--adopt', '--auto-approve', '--assume-declared-images', ...BUNDLE]);
    fault.remove();
    expect(fault.hits).toBe(3);
    expect(failed.code).toBe(4);
    expect(failed.stderr).toContain('failed: tag');
    expect(tagsOf(await instance(acme.instanceId)).ManagedBy).toBeUndefined();

    const resumed = await run(['import', '--adopt', '--auto-approve', '--assume-declared-images', ...BUNDLE]);
    expect(resumed.stderr).not.toContain('failed');
    expect(resumed.code).toBe(0);
    // The plan is shown before anything is stamped.
    expect(resumed.stdout.indexOf('Adoption plan')).toBeGreaterThanOrEqual(0);
    expect(resumed.stdout.indexOf('Plan of these tenants after adoption: no changes.')).toBeLessThan(resumed.stdout.indexOf('Adopted:'));

    const plan = await run(['plan']);
    expect(plan.stdout).toContain('No changes');
    expect(plan.code).toBe(0);
  });

  it('adoption stamped the contract from outside: tags, the tunnel renamed, the bundle copied byte for byte, nothing created or deleted', async () => {
    const t = tagsOf(await instance(acme.instanceId));
    expect(t).toMatchObject({
      ManagedBy: 'tenantform',
      Env: 'dev',
      OrgID: ORG.acme,
      OrgSlug: 'acme',
      Role: 'tenant',
      Name: 'tenantform-dev-acme',
      TunnelID: acme.tunnelId,
      SGID: acme.groupId,
      DeletionProtection: 'false',
      Image: 'ghcr.io/example/platform:1.4.2',
    });
    expect(tagsOf(await instance(acme.workspaces[0]!.instanceId))).toMatchObject({
      ManagedBy: 'tenantform',
      Env: 'dev',
      Role: 'workspace',
      WorkspaceID: WS.acmeHermes,
      Runtime: 'hermes',
      Tier: 'T4',
      Name: 'tenantform-dev-acme-hermes-9b8e4f7a',
      Image: 'ghcr.io/example/hermes:2.1.0',
    });
    const group = (await check.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [acme.groupId] }))).SecurityGroups![0]!;
    expect(tagsOf(group)).toMatchObject({ ManagedBy: 'tenantform', Env: 'dev', OrgID: ORG.acme, Role: 'tenant' });

    for (const s of [acme, globex]) {
      expect(await secretValue(secretName('dev', s.orgId))).toBe(s.bundleValue);
      expect(await secretValue(s.bundleName)).toBe(s.bundleValue);
      const named = (await check.secrets.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [secretName('dev', s.orgId)] }] }))).SecretList!;
      expect(named).toHaveLength(1);
      const tunnels = cf.tunnels().filter((x) => x.id === s.tunnelId);
      expect(tunnels.map((x) => x.name)).toEqual([tunnelName('dev', s.slug, s.orgId)]);
      const record = cf.dnsRecords().find((r) => r.id === s.recordId)!;
      expect([record.content, record.comment]).toEqual([`${s.tunnelId}.cfargotunnel.com`, `tenantform env=dev org=${s.orgId} slug=${s.slug}`]);
    }
    expect(cf.tunnels().filter((x) => !x.deletedAt)).toHaveLength(4);

    const made = mutations(start);
    expect(made.aws.filter((a) => /^(RunInstances|TerminateInstances|Delete|CreateSecurityGroup|Authorize|Revoke|PutSecretValue)/.test(a))).toEqual([]);
    expect(made.aws.filter((a) => a === 'CreateSecret')).toHaveLength(2);
    expect(made.cf.filter((r) => r.startsWith('POST') || r.startsWith('DELETE') || r.startsWith('PUT'))).toEqual([]);
  });

  it('every adoption step is an audit row under its run: history --tenant lists the adopted instances, groups, tunnel, record and bundle, and the failed step', async () => {
    const res = await run(['history', '--tenant', 'acme', '--json', '--limit', '500']);
    expect(res.code).toBe(0);
    type Row = { runId: string; kind: string; resourceId: string; state: string; slug: string; workspaceId?: string };
    const h = JSON.parse(res.stdout) as { runs: Array<{ runId: string; command: string; status: string }>; resources: Row[] };
    const adopted = h.resources.filter((r) => r.state === 'adopted').map((r) => `${r.kind} ${r.resourceId}`);
    const ws = acme.workspaces[0]!;
    for (const want of [
      `instance ${acme.instanceId}`,
      `instance ${ws.instanceId}`,
      `securityGroup ${acme.groupId}`,
      `securityGroup ${ws.groupId}`,
      `tunnel ${acme.tunnelId}`,
      `dnsRecord ${acme.recordId}`,
      `secret ${secretName('dev', ORG.acme)}`,
    ])
      expect(adopted).toContain(want);
    expect(h.resources.every((r) => r.slug === 'acme')).toBe(true);
    expect(h.resources.find((r) => r.kind === 'instance' && r.resourceId === ws.instanceId)?.workspaceId).toBe(WS.acmeHermes);
    // Rows are filed under import runs: the failed one (exit 4) and the one that resumed it.
    const runs = new Map(h.runs.map((r) => [r.runId, r]));
    expect(h.resources.every((r) => runs.get(r.runId)?.command === 'import')).toBe(true);
    expect([...runs.values()].map((r) => r.status)).toEqual(expect.arrayContaining(['partial', 'succeeded']));
    // The step that failed is a failed row, whichever tenant it was for.
    const all = JSON.parse((await run(['history', '--json', '--limit', '500'])).stdout) as { runs: Array<{ command: string; status: string }>; resources: Row[] };
    expect(all.resources.filter((r) => r.state === 'failed').map((r) => r.kind)).toEqual(['instance']);
    // The run the held lease refused is recorded as refused.
    expect(all.runs.filter((r) => r.command === 'import').map((r) => r.status)).toContain('refused');
    const text = await run(['history', '--tenant', 'acme']);
    expect(text.stdout).toMatch(new RegExp(`adopted +tunnel +${acme.tunnelId} +acme`));
  });

  it('the audit database holds no secret: no bundle value in any row', () => {
    const sqlite = new Database(db, { readonly: true });
    try {
      const tables = sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>;
      const rows = JSON.stringify(tables.map((t) => sqlite.prepare(`SELECT * FROM "${t.name}"`).all()));
      expect(rows).toContain(acme.instanceId);
      for (const s of [acme, globex]) {
        expect(rows).not.toContain(s.dbPassword);
        const bundle = JSON.parse(s.bundleValue) as Record<string, string>;
        expect(rows).not.toContain(s.bundleValue);
        for (const key of ['DB_PASSWORD', 'ADMIN_TOKEN', 'TUNNEL_TOKEN', 'SECRETS_ENCRYPTION_KEY']) expect(rows).not.toContain(bundle[key]);
      }
    } finally {
      sqlite.close();
    }
  });

  it('a further --adopt finds nothing left to import and makes no mutating call', async () => {
    const from = mark();
    const res = await run(['import', '--adopt', '--auto-approve', ...BUNDLE]);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain("2 tenants already carry tenantform's tags");
    expect(res.stdout).not.toContain('Adoption plan');
    expect(mutations(from)).toEqual({ aws: [], cf: [] });
  });

  it('--json lists the held-back resources', async () => {
    const res = await run(['import', '--json', ...BUNDLE]);
    expect(res.code).toBe(0);
    const json = JSON.parse(res.stdout) as { incomplete: Array<{ id: string; missing: string[] }> };
    expect(json.incomplete.map((i) => i.missing).sort()).toEqual([['Runtime'], ['TunnelID']]);
  });

  it('never prints a secret: bundle values, the database password, the environment secrets', () => {
    const text = outputs.join('\n');
    for (const s of [acme, globex]) {
      expect(text).not.toContain(s.dbPassword);
      const bundle = JSON.parse(s.bundleValue) as Record<string, string>;
      for (const key of ['DB_PASSWORD', 'ADMIN_TOKEN', 'TUNNEL_TOKEN', 'SECRETS_ENCRYPTION_KEY']) expect(text).not.toContain(bundle[key]);
    }
    expect(text).not.toContain(cf.apiToken);
  });
});
