/**
 * Tenant create against moto and the Cloudflare double, checked from the outside: what AWS and
 * Cloudflare hold afterwards, not what the code says it did.
 */
import { DescribeInstanceAttributeCommand, DescribeSecurityGroupsCommand, DescribeVolumesCommand } from '@aws-sdk/client-ec2';
import { DescribeSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant } from '../../src/apply/tenant.js';
import { secretName, tunnelName } from '../../src/contract.js';
import { CloudError, ConfigError } from '../../src/errors.js';
import { APP_DOMAIN, assertNoSecret, markTraffic, newTenant, orgInstances, startApplyHarness, tagsOf, tenantIntentFor, type ApplyHarness } from './harness.js';

let h: ApplyHarness;
beforeAll(async () => {
  h = await startApplyHarness();
});
afterAll(async () => {
  await h?.close();
});

function liveTunnels(name: string) {
  return h.cf.tunnels().filter((t) => t.name === name && t.deletedAt === null);
}

describe('createTenant', () => {
  it('provisions tunnel, CNAME, ingress, bundle, group and instance as the contract says', async () => {
    const t = newTenant('acme');
    const out = await createTenant(h.ctx, tenantIntentFor(h, t));
    expect(out.created.sort()).toEqual(['dnsRecord', 'instance', 'secret', 'securityGroup', 'tunnel']);

    // Cloudflare: one tunnel under the deterministic name, a proxied CNAME to it, ingress with the catch-all last.
    const tunnels = liveTunnels(tunnelName('dev', t.slug, t.orgId));
    expect(tunnels.map((x) => x.id)).toEqual([out.tunnelId]);
    const host = `${t.slug}.${APP_DOMAIN}`;
    const records = h.cf.dnsRecords().filter((r) => r.name === host);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ type: 'CNAME', content: `${out.tunnelId}.cfargotunnel.com`, proxied: true });
    expect(records[0]!.comment).toContain(`org=${t.orgId}`);
    const config = h.cf.configurations(out.tunnelId) as { config: { ingress: Array<{ hostname?: string; service: string }> } };
    const ingress = config.config.ingress;
    expect(ingress[0]).toMatchObject({ hostname: host, service: 'http://localhost:8080' });
    expect(ingress.at(-1)!.service).toBe('http_status:404');
    expect(ingress.at(-1)!.hostname ?? '').toBe('');

    // The bundle: generated values present, wired values and the tunnel token included.
    const value = await h.check.secrets.send(new GetSecretValueCommand({ SecretId: secretName('dev', t.orgId) }));
    const bundle = JSON.parse(value.SecretString!) as Record<string, string>;
    expect(bundle.DB_PASSWORD!.length).toBeGreaterThanOrEqual(32);
    expect(bundle.ADMIN_TOKEN!.length).toBeGreaterThanOrEqual(32);
    expect(bundle.DB_PASSWORD).not.toBe(bundle.ADMIN_TOKEN);
    const token = await h.ctx.cloudflare.client.zeroTrust.tunnels.cloudflared.token.get(out.tunnelId, { account_id: h.cf.accountId });
    expect(bundle).toMatchObject({
      TUNNEL_TOKEN: token,
      SECRETS_ENCRYPTION_KEY: h.ctx.wiring.secrets.encryptionKey,
      PROVISION_SHARED_SECRET: h.ctx.wiring.secrets.sharedSecret,
      GHCR_PULL_TOKEN: h.ctx.wiring.secrets.ghcrPullToken,
      CP_BASE_URL: 'https://cp.example.com',
      ORG_ID: t.orgId,
      ORG_SLUG: t.slug,
    });
    const described = await h.check.secrets.send(new DescribeSecretCommand({ SecretId: secretName('dev', t.orgId) }));
    expect(tagsOf(described)).toMatchObject({ ManagedBy: 'tenantform', Env: 'dev', OrgID: t.orgId, OrgSlug: t.slug, Role: 'tenant' });

    // The security group: platform port from the VPC CIDR, tcp/22 only from the EIC group, nothing open to the world.
    const sg = (await h.check.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [out.securityGroupId] }))).SecurityGroups![0]!;
    expect(sg.GroupName).toBe(`tenantform-dev-tenant-${t.orgId}`);
    expect(sg.VpcId).toBe(h.aws.seed.vpcId);
    const perms = sg.IpPermissions ?? [];
    expect(JSON.stringify(perms)).not.toContain('0.0.0.0/0');
    expect(JSON.stringify(perms)).not.toContain('::/0');
    const ssh = perms.filter((p) => p.FromPort === 22);
    expect(ssh).toHaveLength(1);
    expect(ssh[0]!.IpRanges ?? []).toEqual([]);
    expect(ssh[0]!.UserIdGroupPairs!.map((g) => g.GroupId)).toEqual([h.aws.seed.eicSecurityGroupId]);
    const platform = perms.filter((p) => p.FromPort === 8080);
    expect(platform[0]!.IpRanges!.map((r) => r.CidrIp)).toEqual([h.aws.seed.vpcCidr]);
    expect(perms).toHaveLength(2);

    // The instance: type, AMI, profile, 30 GB root, group, every contract tag.
    const [instance, ...more] = await orgInstances(h, t.orgId);
    expect(more).toEqual([]);
    expect(instance!.InstanceId).toBe(out.instanceId);
    expect(instance!.InstanceType).toBe('t3.small');
    expect(instance!.ImageId).toBe(h.aws.seed.ami);
    expect(instance!.IamInstanceProfile?.Arn).toContain(h.aws.seed.instanceProfileName);
    expect(instance!.SecurityGroups?.map((g) => g.GroupId)).toEqual([out.securityGroupId]);
    expect(tagsOf(instance!)).toEqual({
      ManagedBy: 'tenantform',
      Env: 'dev',
      Role: 'tenant',
      OrgID: t.orgId,
      OrgSlug: t.slug,
      Name: `tenantform-dev-${t.slug}`,
      Image: 'ghcr.io/example/platform:1.4.2',
      TunnelID: out.tunnelId,
      SGID: out.securityGroupId,
      DeletionProtection: 'false',
      GitCommit: 'c0ffee1',
    });
    const volumes = await h.check.ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [out.instanceId] }] }));
    expect(volumes.Volumes!.map((v) => v.Size)).toEqual([30]);
    expect(tagsOf(volumes.Volumes![0]!).OrgID).toBe(t.orgId);

    // User-data fetches the bundle by name and holds none of its values.
    const attr = await h.check.ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: out.instanceId, Attribute: 'userData' }));
    const script = Buffer.from(attr.UserData!.Value!, 'base64').toString('utf8');
    expect(script).toContain(secretName('dev', t.orgId));
    expect(script).toContain('aws secretsmanager get-secret-value');
    for (const v of Object.values(bundle)) if (v.length >= 8 && !v.startsWith('https://') && v !== t.orgId && v !== t.slug) expect(script).not.toContain(v);
    assertNoSecret(h, script);

    // Audit: every step left a row, and no row holds a secret.
    const kinds = new Set(h.audit.filter((e) => e.orgId === t.orgId && e.state === 'created').map((e) => e.kind));
    expect([...kinds].sort()).toEqual(['dnsRecord', 'ingress', 'instance', 'secret', 'securityGroup', 'tunnel']);
    assertNoSecret(h, JSON.stringify(h.audit));
  });

  it('a second create adopts everything without a single mutating call', async () => {
    const t = newTenant('again');
    const first = await createTenant(h.ctx, tenantIntentFor(h, t));
    const bundleBefore = (await h.check.secrets.send(new GetSecretValueCommand({ SecretId: secretName('dev', t.orgId) }))).SecretString;
    const traffic = markTraffic(h);
    const second = await createTenant(h.ctx, tenantIntentFor(h, t));
    expect(traffic()).toEqual({ awsMutating: [], cfMutating: [] });
    expect(second).toEqual({ ...first, created: [] });
    const bundleAfter = (await h.check.secrets.send(new GetSecretValueCommand({ SecretId: secretName('dev', t.orgId) }))).SecretString;
    expect(bundleAfter).toBe(bundleBefore);
    const adopted = h.audit.filter((e) => e.orgId === t.orgId && e.state === 'adopted').map((e) => e.kind);
    expect(new Set(adopted)).toEqual(new Set(['tunnel', 'dnsRecord', 'ingress', 'secret', 'securityGroup', 'instance']));
  });

  it('a DNS failure deletes the new tunnel and fails the tenant before any AWS resource', async () => {
    const t = newTenant('dnsfail');
    h.cf.faults.add({ method: 'POST', path: /\/dns_records$/, kind: 'status', status: 400, code: 9000 });
    const err = await createTenant(h.ctx, tenantIntentFor(h, t)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CloudError);
    expect((err as Error).message).toContain('create DNS record');
    expect(liveTunnels(tunnelName('dev', t.slug, t.orgId))).toEqual([]);
    expect(h.cf.tunnels().filter((x) => x.name === tunnelName('dev', t.slug, t.orgId))).toHaveLength(1); // soft-deleted
    expect(h.audit.some((e) => e.orgId === t.orgId && e.kind === 'tunnel' && e.state === 'rolledBack')).toBe(true);
    expect(await orgInstances(h, t.orgId)).toEqual([]);
    await expect(h.check.secrets.send(new DescribeSecretCommand({ SecretId: secretName('dev', t.orgId) }))).rejects.toThrow(/ResourceNotFound|can't find/i);
  });

  it('refuses an app domain outside the Cloudflare zone, leaving no record at the zone-appended name', async () => {
    const t = newTenant('offzone');
    const ctx = { ...h.ctx, wiring: { ...h.ctx.wiring, appDomain: 'tenants.elsewhere.net' } };
    const err = await createTenant(ctx, tenantIntentFor(h, t)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain('APP_DOMAIN tenants.elsewhere.net is not inside the zone');
    expect(h.cf.dnsRecords().filter((r) => r.name.startsWith(`${t.slug}.`))).toEqual([]);
    expect(liveTunnels(tunnelName('dev', t.slug, t.orgId))).toEqual([]);
    expect(await orgInstances(h, t.orgId)).toEqual([]);
  });

  it('an ingress failure deletes the new tunnel and its new CNAME', async () => {
    const t = newTenant('ingfail');
    h.cf.faults.add({ method: 'PUT', path: /\/configurations$/, kind: 'status', status: 400, code: 1056 });
    await expect(createTenant(h.ctx, tenantIntentFor(h, t))).rejects.toThrow(/update tunnel configuration/);
    expect(liveTunnels(tunnelName('dev', t.slug, t.orgId))).toEqual([]);
    expect(h.cf.dnsRecords().filter((r) => r.name === `${t.slug}.${APP_DOMAIN}`)).toEqual([]);
  });

  it('cleans a purged org’s tunnel and CNAME of the same slug before reusing it', async () => {
    const gone = newTenant('reuse');
    await createTenant(h.ctx, tenantIntentFor(h, gone));
    const connector = h.cf.tunnels().find((x) => x.name === tunnelName('dev', gone.slug, gone.orgId))!;
    h.cf.attachConnector(connector.id);
    const next = { orgId: `${gone.orgId.slice(0, 30)}beef00`, slug: gone.slug };
    const out = await createTenant(h.ctx, tenantIntentFor(h, next));
    expect(liveTunnels(tunnelName('dev', gone.slug, gone.orgId))).toEqual([]);
    const records = h.cf.dnsRecords().filter((r) => r.name === `${gone.slug}.${APP_DOMAIN}`);
    expect(records.map((r) => r.content)).toEqual([`${out.tunnelId}.cfargotunnel.com`]);
    expect(records[0]!.comment).toContain(`org=${next.orgId}`);
  });

  it('retries throttling on AWS and Cloudflare and still makes exactly one of each', async () => {
    const t = newTenant('throttle');
    const run = h.aws.faults.inject({ kind: 'throttle', action: 'RunInstances', count: 4 });
    const sg = h.aws.faults.inject({ kind: 'throttle', action: 'CreateSecurityGroup', count: 4 });
    h.cf.faults.add({ method: 'POST', path: /\/cfd_tunnel$/, kind: 'rate-limit', times: 3, retryAfterSeconds: 0 });
    try {
      await createTenant(h.ctx, tenantIntentFor(h, t));
    } finally {
      run.remove();
      sg.remove();
    }
    expect(run.hits).toBe(4);
    expect(await orgInstances(h, t.orgId)).toHaveLength(1);
    expect(liveTunnels(tunnelName('dev', t.slug, t.orgId))).toHaveLength(1);
  });

  it('adopts a tunnel and a CNAME whose create responses were lost after commit', async () => {
    const t = newTenant('lost');
    h.cf.faults.add({ method: 'POST', path: /\/cfd_tunnel$/, kind: 'commit-then-drop' });
    h.cf.faults.add({ method: 'POST', path: /\/dns_records$/, kind: 'commit-then-drop' });
    const out = await createTenant(h.ctx, tenantIntentFor(h, t));
    expect(liveTunnels(tunnelName('dev', t.slug, t.orgId)).map((x) => x.id)).toEqual([out.tunnelId]);
    expect(h.cf.dnsRecords().filter((r) => r.name === `${t.slug}.${APP_DOMAIN}`)).toHaveLength(1);
    // This run's own creates landed: recorded as created (with the lost answer noted), not adopted.
    expect(
      h.audit
        .filter((e) => e.orgId === t.orgId && e.state === 'created' && e.details?.afterLostCreate)
        .map((e) => e.kind)
        .sort(),
    ).toEqual(['dnsRecord', 'tunnel']);
    expect(h.audit.filter((e) => e.orgId === t.orgId && e.state === 'adopted').map((e) => e.kind)).not.toContain('tunnel');
    expect(out.created).toEqual(expect.arrayContaining(['tunnel', 'dnsRecord']));
  });
});
