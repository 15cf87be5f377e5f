/**
 * `tenantform import` with a canary account: the old control plane launched its canary tenants in
 * the second account, so with CANARY_* set import observes both. A control-plane-style tenant is
 * seeded in each account from outside (test/support/control-plane-seed.ts, with the canary
 * account's clients for the canary one); --write marks the canary account's tenant `canary: true`,
 * --adopt stamps each in its own account, and the next plan is clean. Checked from outside in both
 * accounts.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeInstancesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { GetSecretValueCommand, ListSecretsCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretName } from '../../src/contract.js';
import { loadCommands } from '../../src/cli/commands.js';
import { memoryIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { startAwsEmulator, type AwsEmulator, type AwsTestClients } from '../support/aws.js';
import { startCanaryAccount, type CanaryAccount } from '../support/canary-account.js';
import { startCloudflareDouble, type CloudflareDouble } from '../support/cloudflare-double/index.js';
import { CP_BUNDLE_TEMPLATE, seedControlPlaneTenant, type SeededTenant } from '../support/control-plane-seed.js';

const REPO_ROOT = new URL('../../', import.meta.url).pathname;
const APP_DOMAIN = 'tenants.example.dev';
const ORG = { acme: '7a0c6a52-3b1e-4c8e-9a57-2d41e8a0d001', beta: '7a0c6a52-3b1e-4c8e-9a57-2d41e8a0d002' };
const BUNDLE = ['--bundle-name', CP_BUNDLE_TEMPLATE];

let aws: AwsEmulator;
let cf: CloudflareDouble;
let check: AwsTestClients;
let canary: CanaryAccount;
let dir: string;
let env: Record<string, string>;

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = memoryIo({ env, cwd: dir });
  const code = await main(args, io, await loadCommands(args));
  return { code, stdout: io.out.join(''), stderr: io.err.join('') };
}

async function tagsOfInstance(ec2: EC2Client, id: string): Promise<Record<string, string>> {
  const i = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!;
  return Object.fromEntries((i.Tags ?? []).map((t) => [t.Key!, t.Value!]));
}

async function secretNames(secrets: SecretsManagerClient, orgId: string): Promise<string[]> {
  return ((await secrets.send(new ListSecretsCommand({ Filters: [{ Key: 'tag-value', Values: [orgId] }] }))).SecretList ?? []).map((s) => s.Name!).sort();
}

beforeAll(async () => {
  aws = await startAwsEmulator();
  cf = await startCloudflareDouble({ zoneName: 'example.dev' });
  check = aws.clients();
  canary = await startCanaryAccount(aws);
  dir = mkdtempSync(join(tmpdir(), 'tenantform-import-canary-'));
  cpSync(join(REPO_ROOT, 'fleet.yaml'), join(dir, 'fleet.yaml'));
  cpSync(join(REPO_ROOT, 'schemas'), join(dir, 'schemas'), { recursive: true });
  env = { ...aws.env, ...cf.env, ...canary.env, TENANTFORM_DB: join(dir, 'audit.db') };
});
afterAll(async () => {
  canary?.close();
  await aws?.close();
  await cf?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('tenantform import with a canary account', () => {
  let acme: SeededTenant;
  let beta: SeededTenant;

  it('finds the control plane tenants of both accounts and --write marks the canary account’s one canary: true', async () => {
    acme = await seedControlPlaneTenant({ aws, check, cf, env: 'dev', appDomain: APP_DOMAIN }, { orgId: ORG.acme, slug: 'acme' });
    // The canary tenant, in the second account, in its own VPC and subnet.
    beta = await seedControlPlaneTenant(
      { aws: { ...aws, seed: canary.seed }, check: canary.check, cf, env: 'dev', appDomain: APP_DOMAIN },
      { orgId: ORG.beta, slug: 'beta' },
    );
    const listed = await run(['import', ...BUNDLE]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain('acme');
    expect(listed.stdout).toContain(`beta (org ${ORG.beta}, instance ${beta.instanceId}, 0 workspaces, canary account)`);
    expect(listed.stdout).toContain(`acme (org ${ORG.acme}, instance ${acme.instanceId}, 0 workspaces)`);
    const written = await run(['import', '--write', ...BUNDLE]);
    expect(written.code).toBe(0);
    expect(readFileSync(join(dir, 'tenants/beta/tenant.yaml'), 'utf8')).toMatch(/^canary: true$/m);
    expect(readFileSync(join(dir, 'tenants/acme/tenant.yaml'), 'utf8')).not.toContain('canary');
    const validated = await run(['validate']);
    expect(validated.code).toBe(0);
  });

  it('--adopt holds back a tenant whose declared canary does not match the account it lives in', async () => {
    const file = join(dir, 'tenants/beta/tenant.yaml');
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.replace('canary: true\n', ''));
    try {
      const from = aws.calls.length;
      const res = await run(['import', '--adopt', '--auto-approve', '--assume-declared-images', ...BUNDLE]);
      expect(res.code).toBe(1);
      expect(res.stdout + res.stderr).toContain('lives in the canary account');
      expect(aws.calls.slice(from).filter((c) => c.mutating && c.action !== 'AssumeRole')).toEqual([]);
    } finally {
      writeFileSync(file, text);
    }
  });

  it('--adopt stamps each tenant in its own account; the next plan is clean', async () => {
    const res = await run(['import', '--adopt', '--auto-approve', '--assume-declared-images', ...BUNDLE]);
    expect(res.stderr).not.toContain('failed');
    expect(res.code).toBe(0);
    // From outside: beta's instance, in the canary account, carries the contract's tags; its
    // bundle was copied there under the contract's name, byte for byte; nothing of it in main.
    expect(await tagsOfInstance(canary.check.ec2, beta.instanceId)).toMatchObject({ ManagedBy: 'tenantform', Env: 'dev', OrgID: ORG.beta, Role: 'tenant' });
    const copied = await canary.check.secrets.send(new GetSecretValueCommand({ SecretId: secretName('dev', ORG.beta) }));
    expect(copied.SecretString).toBe(beta.bundleValue);
    expect(await secretNames(check.secrets, ORG.beta)).toEqual([]);
    expect(await tagsOfInstance(check.ec2, acme.instanceId)).toMatchObject({ ManagedBy: 'tenantform', OrgID: ORG.acme });
    expect(await secretNames(canary.check.secrets, ORG.acme)).toEqual([]);
    const plan = await run(['plan']);
    expect(plan.stdout).toContain('No changes');
    expect(plan.code).toBe(0);
    for (const s of [acme.bundleValue, beta.bundleValue, acme.dbPassword, beta.dbPassword]) expect(res.stdout + res.stderr + plan.stdout).not.toContain(s);
  });
});
