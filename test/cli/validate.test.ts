import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { memoryIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { BASE_FILES, makeFleet, removeFleets } from '../desired/fleet-fixture.js';

afterAll(removeFleets);

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const T = 'tenants/acme/tenant.yaml';
const W = 'tenants/acme/workspaces/main.yaml';

/** One error (bad power), one warning (unpinned runtime) and one notice (clamped tier). */
function brokenFleet(): string {
  return makeFleet({
    [T]: `${BASE_FILES[T]}power: off\n`,
    [W]: BASE_FILES[W]!.replace('runtime: hermes', 'runtime: openclaw').replace('tier: T4', 'tier: T3'),
  });
}

async function run(args: string[], env: NodeJS.ProcessEnv = {}, cwd = repoRoot) {
  const io = memoryIo({ env, cwd });
  const code = await main(args, io);
  return { code, out: io.out.join(''), err: io.err.join('') };
}

describe('tenantform validate', () => {
  it('exits 0 for the example fleet in the working directory and summarises it', async () => {
    const { code, out, err } = await run(['validate']);
    expect(code).toBe(0);
    expect(err).toBe('');
    expect(out).toBe(
      'Notices:\n' +
        '  tenants/acme/workspaces/support.yaml:6:7  tier  Tier T3 runs as T4 (t3.large, 80 GB) because the fleet clamps tiers to T4..T4.\n\n' +
        'The fleet is valid: 4 tenants, 4 workspaces (1 notice).\n',
    );
  });

  it('exits 1 and lists errors, then warnings, then notices, with repo-relative paths', async () => {
    const dir = brokenFleet();
    const { code, out } = await run(['validate', '--repo', dir]);
    expect(code).toBe(1);
    expect(out).not.toContain(dir);
    expect(out).toBe(
      'Errors:\n' +
        '  tenants/acme/tenant.yaml:5:8  power  "power" must be one of running, stopped, not "off".\n\n' +
        'Warnings:\n' +
        '  tenants/acme/workspaces/main.yaml:4:10  runtime  Runtime openclaw has no AMI pin for us-east-2 in fleet.yaml, so its 1 workspace uses the default AMI (ami-06dd88604c99ec11f).\n\n' +
        'Notices:\n' +
        '  tenants/acme/workspaces/main.yaml:5:7  tier  Tier T3 runs as T4 (t3.large, 80 GB) because the fleet clamps tiers to T4..T4.\n\n' +
        'The fleet is not valid: 1 error, 1 warning, 1 notice.\n',
    );
  });

  it('reads --repo relative to the working directory', async () => {
    const dir = brokenFleet();
    const { code, out } = await run(['validate', '--repo', '.'], {}, dir);
    expect(code).toBe(1);
    expect(out).toContain('tenants/acme/tenant.yaml:5:8');
  });

  it('prints GitHub annotations with --format github', async () => {
    const { code, out } = await run(['validate', '--repo', brokenFleet(), '--format', 'github']);
    expect(code).toBe(1);
    expect(out.split('\n')).toEqual([
      '::error file=tenants/acme/tenant.yaml,line=5,col=8,title=power::"power" must be one of running, stopped, not "off".',
      '::warning file=tenants/acme/workspaces/main.yaml,line=4,col=10,title=runtime::Runtime openclaw has no AMI pin for us-east-2 in fleet.yaml, so its 1 workspace uses the default AMI (ami-06dd88604c99ec11f).',
      '::notice file=tenants/acme/workspaces/main.yaml,line=5,col=7,title=tier::Tier T3 runs as T4 (t3.large, 80 GB) because the fleet clamps tiers to T4..T4.',
      'The fleet is not valid: 1 error, 1 warning, 1 notice.',
      '',
    ]);
  });

  it('escapes annotation properties and data', async () => {
    const dir = makeFleet({ [T]: `${BASE_FILES[T]}"odd,key:100%": 1\n` });
    const { out } = await run(['validate', '--repo', dir, '--format', 'github']);
    expect(out).toContain('::error file=tenants/acme/tenant.yaml,line=5,col=1,title=odd%2Ckey%3A100%25::Unknown key "odd,key:100%25"; allowed keys here are');
  });

  it('prints a machine-readable report with --json', async () => {
    const { code, out } = await run(['validate', '--repo', brokenFleet(), '--json']);
    expect(code).toBe(1);
    const report = JSON.parse(out) as { valid: boolean; counts: object; diagnostics: object[]; fleet: unknown };
    expect(report.valid).toBe(false);
    expect(report.counts).toEqual({ error: 1, warning: 1, notice: 1 });
    expect(report.diagnostics[0]).toEqual({ severity: 'error', file: T, line: 5, col: 8, path: 'power', message: '"power" must be one of running, stopped, not "off".' });
    expect(report.fleet).toBeUndefined();
  });

  it('reports the loaded fleet in --json when valid', async () => {
    const { code, out } = await run(['validate', '--json']);
    expect(code).toBe(0);
    const report = JSON.parse(out) as { valid: boolean; fleet: { tenants: number; workspaces: number; hash: string } };
    expect(report.valid).toBe(true);
    expect(report.fleet).toMatchObject({ tenants: 4, workspaces: 4 });
    expect(report.fleet.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses an empty fleet unless --allow-empty is given', async () => {
    const dir = makeFleet({ [T]: null, [W]: null });
    expect((await run(['validate', '--repo', dir])).code).toBe(1);
    expect((await run(['validate', '--repo', dir, '--allow-empty'])).code).toBe(0);
  });

  it('places an empty fleet at the tenants/ folder, with no made-up line, in text and GitHub output', async () => {
    const dir = makeFleet({ [T]: null, [W]: null });
    const text = await run(['validate', '--repo', dir]);
    expect(text.out).toContain('\n  tenants/  The fleet declares no tenants;');
    expect(text.out).not.toContain('tenants:1:1');
    const github = await run(['validate', '--repo', dir, '--format', 'github']);
    expect(github.out).toContain('::error file=tenants/::The fleet declares no tenants;');
  });

  it('names a hidden tenant folder instead of leaving its tenant undeclared', async () => {
    const dir = makeFleet({ [T]: null, [W]: null, 'tenants/.acme/tenant.yaml': BASE_FILES[T]! });
    const { code, out } = await run(['validate', '--repo', dir]);
    expect(code).toBe(1);
    expect(out).toContain('  tenants/.acme  The folder tenants/.acme is hidden (its name starts with a dot)');
  });

  it('checks the environment wiring with --env without printing secret values', async () => {
    const secrets = { SECRETS_ENCRYPTION_KEY: 'enc-key-value-123456', CLOUDFLARE_API_TOKEN: 'cf-token-value-123456', GHCR_PULL_TOKEN: 'ghcr-token-value-123456' };
    const { code, out } = await run(['validate', '--env', '--format', 'github'], { ...secrets, MOLECULE_ENV: 'dev' });
    expect(code).toBe(1);
    expect(out).toContain('::error title=EC2_TENANT_IAM_PROFILE::EC2_TENANT_IAM_PROFILE is not set: Secrets Manager + IAM instance profile are required');
    expect(out).toContain('::error title=CLOUDFLARE_ACCOUNT_ID::');
    expect(out).toContain('::warning title=EIC_ENDPOINT_SG_ID::');
    expect(out).toContain('::warning title=EC2_VPC_ID::');
    expect(out).not.toContain('SECRETS_ENCRYPTION_KEY is not set');
    for (const value of Object.values(secrets)) expect(out).not.toContain(value);
  });

  it('passes --env with a complete wiring', async () => {
    const env = {
      SECRETS_ENCRYPTION_KEY: 'enc-key-value-123456',
      EC2_TENANT_IAM_PROFILE: 'tenantform-tenant',
      EC2_VPC_ID: 'vpc-0a1b2c3d',
      EIC_ENDPOINT_SG_ID: 'sg-0a1b2c3d',
      CLOUDFLARE_API_TOKEN: 'cf-token-value-123456',
      CLOUDFLARE_ACCOUNT_ID: '0a1b2c3d4e5f60718293a4b5c6d7e8f9',
      CLOUDFLARE_ZONE_ID: 'f9e8d7c6b5a4938271605f4e3d2c1b0a',
    };
    const { code, out } = await run(['validate', '--env'], env);
    expect(out).toBe(
      'Notices:\n' +
        '  tenants/acme/workspaces/support.yaml:6:7  tier  Tier T3 runs as T4 (t3.large, 80 GB) because the fleet clamps tiers to T4..T4.\n\n' +
        'The fleet is valid: 4 tenants, 4 workspaces (1 notice).\n',
    );
    expect(code).toBe(0);
  });

  it("reports the canary account's missing wiring variables with --env, loudly", async () => {
    const env = {
      SECRETS_ENCRYPTION_KEY: 'enc-key-value-123456',
      EC2_TENANT_IAM_PROFILE: 'tenantform-tenant',
      EC2_VPC_ID: 'vpc-0a1b2c3d',
      EIC_ENDPOINT_SG_ID: 'sg-0a1b2c3d',
      CLOUDFLARE_API_TOKEN: 'cf-token-value-123456',
      CLOUDFLARE_ACCOUNT_ID: '0a1b2c3d4e5f60718293a4b5c6d7e8f9',
      CLOUDFLARE_ZONE_ID: 'f9e8d7c6b5a4938271605f4e3d2c1b0a',
      CANARY_ROLE_ARN: 'arn:aws:iam::111111111111:role/tenantform-canary',
      CANARY_REGION: 'us-east-2',
      CANARY_VPC_ID: 'vpc-1a2b3c4d',
      CANARY_SUBNET_ID: 'subnet-1a2b3c4d',
    };
    const { code, out } = await run(['validate', '--env', '--format', 'github'], env);
    expect(code).toBe(0);
    expect(out).toContain('::warning title=CANARY_EIC_ENDPOINT_SG_ID::CANARY_EIC_ENDPOINT_SG_ID is not set');
    expect(out).toContain('::warning title=CANARY_TENANT_IAM_PROFILE::CANARY_TENANT_IAM_PROFILE is not set');
  });

  it('rejects an unknown --format with exit code 1', async () => {
    const { code, err } = await run(['validate', '--format', 'xml']);
    expect(code).toBe(1);
    expect(err).toContain("argument 'xml' is invalid");
  });
});

describe('the built binary', () => {
  const exec = promisify(execFile);
  const bin = fileURLToPath(new URL('../../bin/tenantform.js', import.meta.url));

  it('validates as a child process: exit code 1, annotations on stdout, no stack trace', async () => {
    expect(existsSync(new URL('../../dist/cli/main.js', import.meta.url)), 'dist/ is missing: run `npm run build` (npm test does it first)').toBe(true);
    const dir = makeFleet({ [T]: 'slug: [acme\n' });
    const failure = await exec(process.execPath, [bin, 'validate', '--repo', dir, '--format', 'github'], { env: { PATH: process.env.PATH } }).then(
      () => undefined,
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stdout).toMatch(/^::error file=tenants\/acme\/tenant.yaml,line=\d+,col=\d+::YAML syntax error: /);
    expect(failure?.stderr).toBe('');
  });

  it('exits 0 for the example fleet', async () => {
    const { stdout } = await exec(process.execPath, [bin, 'validate', '--repo', repoRoot], { env: { PATH: process.env.PATH } });
    expect(stdout).toContain('The fleet is valid: 4 tenants, 4 workspaces');
  });
});
