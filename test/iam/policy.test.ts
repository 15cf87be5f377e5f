import { describe, expect, it } from 'vitest';
import { memoryIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { AWS_ACTIONS, iamActionName } from '../../src/iam/actions.js';
import { cloudflarePermissions, unmappedCloudflareKinds } from '../../src/iam/cloudflare.js';
import { grantedActions, iamPolicy, tableActions, type PolicyDocument } from '../../src/iam/policy.js';
import { KINDS, RESOURCE_KINDS } from '../../src/kinds.js';
import { CP_BUNDLE_TEMPLATE } from '../support/control-plane-seed.js';
import { compareRecord, RECORD_POLICY } from './record-check.global.js';

async function run(args: string[], env: Record<string, string> = {}) {
  const io = memoryIo({ env, cwd: process.cwd() });
  const code = await main(args, io);
  return { code, out: io.out.join(''), err: io.err.join('') };
}

const READ = /^(Describe|List|Get)/;

describe('the IAM policy document', () => {
  const doc: PolicyDocument = iamPolicy();

  it('is valid IAM JSON: Version, Sids unique, each statement Allow with actions and resources', () => {
    const parsed = JSON.parse(JSON.stringify(doc)) as PolicyDocument;
    expect(parsed.Version).toBe('2012-10-17');
    expect(Array.isArray(parsed.Statement) && parsed.Statement.length > 0).toBe(true);
    expect(new Set(parsed.Statement.map((s) => s.Sid)).size).toBe(parsed.Statement.length);
    for (const s of parsed.Statement) {
      expect(Object.keys(s).every((k) => ['Sid', 'Effect', 'Action', 'Resource', 'Condition'].includes(k))).toBe(true);
      expect(s.Sid).toMatch(/^[A-Za-z0-9]+$/);
      expect(s.Effect).toBe('Allow');
      expect(s.Action.length).toBeGreaterThan(0);
      for (const a of s.Action) expect(a).toMatch(/^(ec2|secretsmanager|ssm|iam|servicequotas|sts):[A-Z][A-Za-z]+$/);
      const resources = Array.isArray(s.Resource) ? s.Resource : [s.Resource];
      for (const r of resources) expect(r === '*' || r.startsWith('arn:aws:')).toBe(true);
      for (const [op, keys] of Object.entries(s.Condition ?? {})) {
        expect(op).toMatch(/^(ForAllValues:|ForAnyValue:)?String(Equals|Like)(IfExists)?$/);
        expect(Object.keys(keys).length).toBeGreaterThan(0);
      }
    }
  });

  it('grants no wildcard action, and no mutation on Resource "*" without a condition', () => {
    for (const s of doc.Statement) {
      for (const a of s.Action) expect(a).not.toContain('*');
      const mutations = s.Action.filter((a) => !READ.test(a.split(':')[1]!));
      if (mutations.length && s.Resource === '*') expect.fail(`${s.Sid} grants ${mutations.join(', ')} on every resource`);
    }
  });

  it('grants exactly the action table, and nothing in it twice under different conditions by accident', () => {
    expect([...grantedActions(doc)].sort()).toEqual([...tableActions()].sort());
  });

  it('conditions mutations on ManagedBy=tenantform and creates on the request tag', () => {
    const bySid = new Map(doc.Statement.map((s) => [s.Sid, s]));
    expect(bySid.get('Ec2MutateManaged')!.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/ManagedBy': 'tenantform' } });
    expect(bySid.get('Ec2CreateTagged')!.Condition!.StringEquals).toEqual({ 'aws:RequestTag/ManagedBy': 'tenantform' });
    expect(bySid.get('Ec2CreateTagged')!.Condition!['ForAllValues:StringEquals']!['aws:TagKeys']).toContain('ManagedBy');
    expect(bySid.get('SecretManaged')!.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/ManagedBy': 'tenantform' } });
    expect(bySid.get('SsmCommandOnManagedInstances')!.Condition).toEqual({ StringEquals: { 'ssm:resourceTag/ManagedBy': 'tenantform' } });
    expect(bySid.get('SsmCommandDocument')!.Resource).toBe('arn:aws:ssm:*::document/AWS-RunShellScript');
    expect(bySid.get('PassTenantRoleToEc2')!.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } });
    // Every tagged/create mutation is only in conditioned statements.
    for (const a of AWS_ACTIONS.filter((x) => x.condition === 'tagged' || x.condition === 'create' || x.condition === 'secret')) {
      const holders = doc.Statement.filter((s) => s.Action.includes(iamActionName(a)));
      expect(holders.length).toBeGreaterThan(0);
      expect(holders.every((s) => s.Resource !== '*')).toBe(true);
      expect(holders.some((s) => s.Condition)).toBe(true);
    }
  });

  it("grants import --adopt's read of the control plane's bundles only with --bundle-name, as narrowly as the template allows", () => {
    expect(doc.Statement.some((s) => s.Sid === 'ImportReadControlPlaneBundles')).toBe(false);
    const scoped = iamPolicy({ region: 'us-east-2', account: '111122223333', environment: 'dev', bundleName: 'molecule/{env}/orgs/{orgId}/bootstrap' });
    const grant = scoped.Statement.find((s) => s.Sid === 'ImportReadControlPlaneBundles');
    expect(grant).toEqual({
      Sid: 'ImportReadControlPlaneBundles',
      Effect: 'Allow',
      Action: ['secretsmanager:GetSecretValue'],
      Resource: 'arn:aws:secretsmanager:us-east-2:111122223333:secret:molecule/dev/orgs/*/bootstrap-??????',
    });
    expect(iamPolicy({ bundleName: 'cp/{slug}/{orgId}' }).Statement.find((s) => s.Sid === 'ImportReadControlPlaneBundles')!.Resource).toBe(
      'arn:aws:secretsmanager:*:*:secret:cp/*/*-??????',
    );
    expect(grantedActions(scoped)).toEqual(grantedActions(doc));
    expect(() => iamPolicy({ bundleName: 'molecule/*/{orgId}' })).toThrow(/bundle-name template/);
  });

  it('scopes ARNs by region, account, environment, instance profile and role', () => {
    const scoped = JSON.stringify(
      iamPolicy({ region: 'eu-west-1', account: '111122223333', environment: 'prod', instanceProfile: 'tenant-prof', instanceRole: 'tenant-role' }),
    );
    expect(scoped).toContain('arn:aws:ec2:eu-west-1:111122223333:instance/*');
    expect(scoped).toContain('arn:aws:secretsmanager:eu-west-1:111122223333:secret:tenantform/prod/*');
    expect(scoped).toContain('arn:aws:iam::111122223333:instance-profile/tenant-prof');
    expect(scoped).toContain('arn:aws:iam::111122223333:role/tenant-role');
  });
});

describe('the action table', () => {
  it('lists every AWS operation the kind registry names, under the kind and service that name it', () => {
    for (const kind of RESOURCE_KINDS) {
      const info = KINDS[kind];
      if (info.service === 'cloudflare' || info.service === 'none') continue;
      for (const op of info.operations) {
        const row = AWS_ACTIONS.find((a) => a.action === op && a.service === info.service);
        expect(row, `${info.service}:${op} (${kind})`).toBeDefined();
        expect(row!.kind).toBe(kind);
      }
    }
    for (const row of AWS_ACTIONS.filter((a) => a.kind !== undefined)) {
      expect((KINDS[row.kind!].operations as readonly string[]).includes(row.action), iamActionName(row)).toBe(true);
    }
  });

  it('has each action once', () => {
    const names = AWS_ACTIONS.map(iamActionName);
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('the whole-suite record check', () => {
  it('fails on an action made but not granted, and on a grant never made only for a full run', () => {
    const all = new Set([...tableActions((a) => !a.implied)]);
    expect(compareRecord(all, true)).toEqual({ missing: [], unused: [] });
    expect(compareRecord(new Set([...all, 'ec2:DeleteVpc']), true).missing).toEqual(['ec2:DeleteVpc']);
    const less = new Set([...all].filter((a) => a !== 'ec2:RunInstances'));
    expect(compareRecord(less, true).unused).toEqual(['ec2:RunInstances']);
    expect(compareRecord(less, false).unused).toEqual([]);
  });

  it("checks the secret a Secrets Manager call names against the policy's resources: import --adopt's read of the old bundle needs the --bundle-name grant", () => {
    const oldBundle =
      'secretsmanager:GetSecretValue\tarn:aws:secretsmanager:us-east-2:123456789012:secret:molecule/dev/orgs/5f0c6a52-3b1e-4c8e-9a57-2d41e8a0b001/bootstrap-AbCdEf';
    const ownBundle =
      'secretsmanager:GetSecretValue\tarn:aws:secretsmanager:us-east-2:123456789012:secret:tenantform/dev/tenants/5f0c6a52-3b1e-4c8e-9a57-2d41e8a0b001/bootstrap-AbCdEf';
    const elsewhere = 'secretsmanager:GetSecretValue\tarn:aws:secretsmanager:us-east-2:123456789012:secret:payroll/db-AbCdEf';
    // The record check's own policy is the one printed with the import tests' template.
    expect(RECORD_POLICY).toEqual(iamPolicy({ bundleName: CP_BUNDLE_TEMPLATE }));
    expect(compareRecord(new Set([ownBundle, oldBundle]), false)).toEqual({ missing: [], unused: [] });
    // Without the grant (iam-policy without --bundle-name), the import's read is not granted.
    const arn = oldBundle.split('\t')[1]!;
    expect(compareRecord(new Set([ownBundle, oldBundle]), false, iamPolicy()).missing).toEqual([`secretsmanager:GetSecretValue on ${arn}`]);
    expect(compareRecord(new Set([elsewhere]), false).missing).toEqual([`secretsmanager:GetSecretValue on ${elsewhere.split('\t')[1]!}`]);
    // The grant is GetSecretValue only: no other call on the old bundle.
    expect(compareRecord(new Set([oldBundle.replace('GetSecretValue', 'PutSecretValue')]), false).missing).toEqual([`secretsmanager:PutSecretValue on ${arn}`]);
  });
});

describe('tenantform iam-policy', () => {
  it('prints the generated policy, scoped from flags and the environment', async () => {
    const r = await run(['iam-policy', '--account', '111122223333'], { AWS_REGION: 'us-east-2', MOLECULE_ENV: 'dev', EC2_TENANT_IAM_PROFILE: 'tp' });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual(iamPolicy({ account: '111122223333', region: 'us-east-2', environment: 'dev', instanceProfile: 'tp', partition: 'aws' }));
    const bare = await run(['iam-policy']);
    expect(JSON.parse(bare.out)).toEqual(iamPolicy({ partition: 'aws' }));
  });

  it('--bundle-name adds the import grant (the same template `import --adopt` takes); without it a note on stderr says what is left out', async () => {
    const r = await run(['iam-policy', '--bundle-name', 'molecule/{env}/orgs/{orgId}/bootstrap'], { MOLECULE_ENV: 'dev' });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual(iamPolicy({ environment: 'dev', bundleName: 'molecule/{env}/orgs/{orgId}/bootstrap', partition: 'aws' }));
    expect(r.err).toBe('');
    const bare = await run(['iam-policy']);
    expect(bare.err).toContain('--bundle-name');
    for (const bad of ['molecule/{env}/orgs/bootstrap', 'molecule/*/{orgId}', 'a b/{orgId}']) {
      const refused = await run(['iam-policy', '--bundle-name', bad]);
      expect(refused.code).toBe(1);
      expect(refused.out).toBe('');
      expect(refused.err).toContain('--bundle-name');
    }
  });

  it('--cloudflare prints the token permission groups derived from the registry', async () => {
    expect(unmappedCloudflareKinds()).toEqual([]);
    const perms = cloudflarePermissions();
    expect(perms.map((p) => `${p.scope} ${p.group} ${p.level}`)).toEqual(['Account Cloudflare Tunnel Edit', 'Zone DNS Edit']);
    const cfOps = RESOURCE_KINDS.filter((k) => KINDS[k].service === 'cloudflare').flatMap((k) => [...KINDS[k].operations]);
    expect(perms.flatMap((p) => p.operations).sort()).toEqual(cfOps.sort());
    const r = await run(['iam-policy', '--cloudflare'], { CLOUDFLARE_ACCOUNT_ID: 'a'.repeat(32), CLOUDFLARE_ZONE_ID: 'b'.repeat(32) });
    expect(r.code).toBe(0);
    expect(r.out).toContain('Account · Cloudflare Tunnel · Edit');
    expect(r.out).toContain('Zone · DNS · Edit');
    expect(r.out).toContain(`com.cloudflare.api.account.${'a'.repeat(32)}`);
    expect(r.out).toContain(`com.cloudflare.api.account.zone.${'b'.repeat(32)}`);
  });
});
