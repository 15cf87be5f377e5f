import { describe, expect, it } from 'vitest';
import { readWiring } from '../../src/config/env.js';
import { loadFleet } from '../../src/desired/load.js';

const repoRoot = new URL('../../', import.meta.url).pathname;
const SECRET = 'k3y-do-not-print-0123456789';

/** A complete, valid wiring for the example fleet. */
const full: NodeJS.ProcessEnv = {
  MOLECULE_ENV: 'dev',
  AWS_REGION: 'us-east-2',
  APP_DOMAIN: 'tenants.example.dev',
  SECRETS_ENCRYPTION_KEY: SECRET,
  EC2_TENANT_IAM_PROFILE: 'tenantform-tenant',
  EC2_VPC_ID: 'vpc-0a1b2c3d4e5f60718',
  EC2_SUBNET_ID: 'subnet-0a1b2c3d4e5f60718',
  EIC_ENDPOINT_SG_ID: 'sg-0a1b2c3d4e5f60718',
  CLOUDFLARE_API_TOKEN: 'cf-token-do-not-print',
  CLOUDFLARE_ACCOUNT_ID: '0a1b2c3d4e5f60718293a4b5c6d7e8f9',
  CLOUDFLARE_ZONE_ID: 'f9e8d7c6b5a4938271605f4e3d2c1b0a',
  PROVISION_SHARED_SECRET: 'shared-secret-do-not-print',
  CP_BASE_URL: 'https://cp.example.dev',
};
const without = (...names: string[]) => Object.fromEntries(Object.entries(full).filter(([k]) => !names.includes(k)));
const summary = (env: NodeJS.ProcessEnv) => readWiring(env).diagnostics.map((d) => [d.severity, d.path, d.message]);

describe('the environment contract', () => {
  it('accepts a complete wiring and types it', async () => {
    const { fleet } = await loadFleet(repoRoot);
    const { wiring, diagnostics } = readWiring(full, fleet);
    expect(diagnostics).toEqual([]);
    expect(wiring).toMatchObject({
      environment: 'dev',
      region: 'us-east-2',
      appDomain: 'tenants.example.dev',
      ec2: { vpcId: 'vpc-0a1b2c3d4e5f60718', tenantIamProfile: 'tenantform-tenant', eicEndpointSecurityGroupId: 'sg-0a1b2c3d4e5f60718' },
      secrets: { encryptionKey: SECRET },
      cloudflare: { accountId: '0a1b2c3d4e5f60718293a4b5c6d7e8f9' },
      canary: undefined,
    });
  });

  it('refuses to provision without SECRETS_ENCRYPTION_KEY', () => {
    expect(summary(without('SECRETS_ENCRYPTION_KEY'))).toEqual([
      ['error', 'SECRETS_ENCRYPTION_KEY', 'SECRETS_ENCRYPTION_KEY is not set, so provisioning is disabled: every bootstrap bundle is encrypted with it.'],
    ]);
    expect(readWiring(without('SECRETS_ENCRYPTION_KEY')).wiring).toBeUndefined();
  });

  it('requires the tenant IAM instance profile', () => {
    expect(summary(without('EC2_TENANT_IAM_PROFILE'))).toEqual([
      [
        'error',
        'EC2_TENANT_IAM_PROFILE',
        'EC2_TENANT_IAM_PROFILE is not set: Secrets Manager + IAM instance profile are required, or instances cannot read their bootstrap bundle.',
      ],
    ]);
  });

  it('says what apply really does with neither EC2_VPC_ID nor EC2_SECURITY_GROUP: it refuses, there is no default-VPC fallback', () => {
    expect(summary(without('EC2_VPC_ID'))).toEqual([
      [
        'warning',
        'EC2_VPC_ID',
        'EC2_VPC_ID is not set and neither is EC2_SECURITY_GROUP, so instances have no security group to get: apply refuses (exit 1, before any change) to create or repair any tenant or workspace. Set EC2_VPC_ID for per-tenant security groups.',
      ],
    ]);
  });

  it('warns about the shared security group fallback without EC2_VPC_ID', () => {
    const result = readWiring({ ...without('EC2_VPC_ID'), EC2_SECURITY_GROUP: 'sg-00000000' });
    expect(result.diagnostics.map((d) => [d.severity, d.message])).toEqual([
      ['warning', 'EC2_VPC_ID is not set, so the shared security group fallback (EC2_SECURITY_GROUP) is used and every tenant shares one group.'],
    ]);
    expect(result.wiring?.ec2.legacySecurityGroupId).toBe('sg-00000000');
  });

  it('warns that the terminal breaks without EIC_ENDPOINT_SG_ID', () => {
    expect(summary(without('EIC_ENDPOINT_SG_ID'))).toEqual([
      [
        'warning',
        'EIC_ENDPOINT_SG_ID',
        'EIC_ENDPOINT_SG_ID is not set, so no security group admits the EC2 Instance Connect endpoint and the terminal will fail to open its tunnel.',
      ],
    ]);
  });

  it('requires every Cloudflare setting', () => {
    expect(summary(without('CLOUDFLARE_API_TOKEN', 'CLOUDFLARE_ZONE_ID')).map(([s, p]) => [s, p])).toEqual([
      ['error', 'CLOUDFLARE_API_TOKEN'],
      ['error', 'CLOUDFLARE_ZONE_ID'],
    ]);
  });

  it('takes the canary account settings all four or none', () => {
    expect(summary({ ...full, CANARY_ROLE_ARN: 'arn:aws:iam::123456789012:role/canary', CANARY_REGION: 'us-west-2' })).toEqual([
      [
        'error',
        'CANARY_VPC_ID',
        'The canary account settings are incomplete: set all four of CANARY_ROLE_ARN, CANARY_REGION, CANARY_VPC_ID, CANARY_SUBNET_ID or none (missing CANARY_VPC_ID, CANARY_SUBNET_ID).',
      ],
    ]);
    const all = readWiring({
      ...full,
      CANARY_ROLE_ARN: 'arn:aws:iam::123456789012:role/canary',
      CANARY_REGION: 'us-west-2',
      CANARY_VPC_ID: 'vpc-11111111',
      CANARY_SUBNET_ID: 'subnet-22222222',
    });
    // The canary account's own wiring: no EIC group (warned about), the main profile's name unless CANARY_TENANT_IAM_PROFILE says otherwise.
    expect(all.wiring?.canary).toEqual({
      roleArn: 'arn:aws:iam::123456789012:role/canary',
      region: 'us-west-2',
      vpcId: 'vpc-11111111',
      subnetId: 'subnet-22222222',
      eicEndpointSecurityGroupId: undefined,
      tenantIamProfile: full.EC2_TENANT_IAM_PROFILE,
    });
  });

  it('warns loudly when the canary account lacks its EIC group or instance profile variables, and takes them when set', () => {
    const canary = {
      ...full,
      CANARY_ROLE_ARN: 'arn:aws:iam::111111111111:role/canary',
      CANARY_REGION: 'us-east-2',
      CANARY_VPC_ID: 'vpc-11111111',
      CANARY_SUBNET_ID: 'subnet-22222222',
    };
    const missing = readWiring(canary);
    const warned = missing.diagnostics.filter((d) => d.severity === 'warning').map((d) => d.path);
    expect(warned).toEqual(expect.arrayContaining(['CANARY_EIC_ENDPOINT_SG_ID', 'CANARY_TENANT_IAM_PROFILE']));
    expect(missing.diagnostics.find((d) => d.path === 'CANARY_EIC_ENDPOINT_SG_ID')?.message).toContain('terminal will fail');
    const set = readWiring({ ...canary, CANARY_EIC_ENDPOINT_SG_ID: 'sg-33333333', CANARY_TENANT_IAM_PROFILE: 'canary-profile' });
    expect(set.diagnostics.map((d) => d.path)).not.toContain('CANARY_EIC_ENDPOINT_SG_ID');
    expect(set.wiring?.canary).toMatchObject({ eicEndpointSecurityGroupId: 'sg-33333333', tenantIamProfile: 'canary-profile' });
    const bad = readWiring({ ...canary, CANARY_EIC_ENDPOINT_SG_ID: 'not-a-group' });
    expect(bad.wiring).toBeUndefined();
    expect(bad.diagnostics.find((d) => d.path === 'CANARY_EIC_ENDPOINT_SG_ID')?.severity).toBe('error');
  });

  it('rejects variables that disagree with fleet.yaml and ignores duplicated images with a warning', async () => {
    const { fleet } = await loadFleet(repoRoot);
    const { diagnostics } = readWiring({ ...full, MOLECULE_ENV: 'prod', TENANT_IMAGE: 'ghcr.io/example/platform:0.9' }, fleet);
    expect(diagnostics.map((d) => [d.severity, d.path, d.message])).toEqual([
      ['error', 'MOLECULE_ENV', 'MOLECULE_ENV is prod but fleet.yaml declares environment dev; point the environment at the fleet it provisions.'],
      ['warning', 'TENANT_IMAGE', "TENANT_IMAGE is ignored: fleet.yaml's tenantImage (ghcr.io/example/platform:1.4.2) is what gets deployed."],
    ]);
  });

  it('checks identifiers but never echoes a secret value', () => {
    const env = { ...without('EC2_TENANT_IAM_PROFILE', 'CLOUDFLARE_ZONE_ID'), EC2_VPC_ID: 'vpc-nothex', MOLECULE_ENV: 'qa' };
    const text = JSON.stringify(readWiring(env).diagnostics);
    expect(text).toContain('EC2_VPC_ID is \\"vpc-nothex\\", which is not a VPC id (vpc-…).');
    for (const secret of [SECRET, full.CLOUDFLARE_API_TOKEN!, full.PROVISION_SHARED_SECRET!]) expect(text).not.toContain(secret);
  });

  it('says where environment, region and app domain should come from when neither the variables nor a valid fleet.yaml give them', () => {
    const env = without('MOLECULE_ENV', 'AWS_REGION', 'APP_DOMAIN');
    const result = readWiring(env);
    expect(result.diagnostics.map((d) => [d.severity, d.path, d.message])).toEqual([
      ['error', 'MOLECULE_ENV', 'MOLECULE_ENV is not set and there is no valid fleet.yaml to take it from.'],
      ['error', 'AWS_REGION', 'AWS_REGION is not set and there is no valid fleet.yaml to take it from.'],
      ['error', 'APP_DOMAIN', 'APP_DOMAIN is not set and there is no valid fleet.yaml to take it from.'],
    ]);
    expect(result.wiring).toBeUndefined();
  });

  it('takes environment, region and app domain from fleet.yaml, comparing APP_DOMAIN without regard to case', async () => {
    const { fleet } = await loadFleet(repoRoot);
    const fromFleet = readWiring(without('MOLECULE_ENV', 'AWS_REGION', 'APP_DOMAIN'), fleet);
    expect(fromFleet.diagnostics).toEqual([]);
    expect(fromFleet.wiring).toMatchObject({ environment: 'dev', region: 'us-east-2', appDomain: 'tenants.example.dev' });
    const upper = readWiring({ ...full, APP_DOMAIN: 'Tenants.Example.DEV' }, fleet);
    expect(upper.diagnostics).toEqual([]);
    expect(upper.wiring?.appDomain).toBe('tenants.example.dev');
  });

  it('rejects a URL variable that is not a URL without echoing its value', () => {
    const value = 'cp.example.dev/with-token-abc123';
    const { wiring, diagnostics } = readWiring({ ...full, CP_BASE_URL: value });
    expect(diagnostics.map((d) => [d.severity, d.path, d.message])).toEqual([['error', 'CP_BASE_URL', 'CP_BASE_URL is not a URL.']]);
    expect(JSON.stringify(diagnostics)).not.toContain(value);
    expect(wiring).toBeUndefined();
  });
});
