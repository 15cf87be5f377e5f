import { CreateTagsCommand, DeleteTagsCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { DeleteSecretCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MANAGED_BY, Tag, tunnelEnvPrefix } from '../../src/contract.js';
import { observe } from '../../src/live/observe.js';
import type { Inventory } from '../../src/live/model.js';
import { APP_DOMAIN, startLiveHarness, type LiveHarness } from './harness.js';
import { seedInstance, seedTenant, type SeedTenant, type SeededTenant } from './seed.js';

const AMI = 'ami-0123456789abcdef0';

function tenant(slug: string, orgId: string, workspaces: string[] = [], extra: Partial<SeedTenant> = {}): SeedTenant {
  return {
    orgId,
    slug,
    instanceType: 't3.small',
    volumeGb: 30,
    ami: AMI,
    image: 'ghcr.io/acme/platform:1.0.0',
    workspaces: workspaces.map((id) => ({ id, runtime: 'hermes', tier: 'T4', instanceType: 't3.large', volumeGb: 80, ami: AMI })),
    ...extra,
  };
}

let h: LiveHarness;
const seeded: Record<string, SeededTenant> = {};
const otherEnv: SeededTenant[] = [];
let strayInstanceId: string;

beforeAll(async () => {
  h = await startLiveHarness();
  const dev = h.target('dev');
  seeded.acme = await seedTenant(dev, tenant('acme', 'org-acme', ['ws-a1', 'ws-a2']));
  seeded.beta = await seedTenant(dev, tenant('beta', 'org-beta', [], { deletionProtection: true }));
  // Only a secret scheduled for deletion is left of gamma (a purged tenant).
  seeded.gamma = await seedTenant(dev, tenant('gamma', 'org-gamma'), { parts: ['secret'] });
  await h.target('dev').secrets.send(new DeleteSecretCommand({ SecretId: seeded.gamma.secretArn, RecoveryWindowInDays: 7 }));
  // Another environment, with the same slug and org: must never be listed.
  otherEnv.push(await seedTenant(h.target('staging'), tenant('acme', 'org-acme', ['ws-a1'])));
  // Carries our environment's tags but no OrgID: unattributable, kept aside.
  strayInstanceId = await seedInstance(dev, {
    ami: AMI,
    instanceType: 't3.micro',
    volumeGb: 8,
    securityGroupId: undefined,
    tags: { [Tag.managedBy]: MANAGED_BY, [Tag.env]: 'dev', [Tag.role]: 'tenant' },
  });
  await dev.cloudflare.client.zeroTrust.tunnels.cloudflared.create({
    account_id: dev.cloudflare.accountId,
    name: `${tunnelEnvPrefix('dev')}no-org-here`,
    config_src: 'cloudflare',
  });
}, 120_000);

afterAll(async () => {
  await h?.close();
});

function allIds(inv: Inventory): Set<string> {
  const ids = new Set<string>();
  for (const t of Object.values(inv.tenants)) {
    for (const i of t.instances) ids.add(i.instanceId);
    for (const g of t.securityGroups) ids.add(g.groupId);
    for (const s of t.secrets) ids.add(s.arn);
    for (const tun of t.tunnels) ids.add(tun.id);
    for (const r of t.dnsRecords) ids.add(r.id);
    for (const w of Object.values(t.workspaces)) {
      for (const i of w.instances) ids.add(i.instanceId);
      for (const g of w.securityGroups) ids.add(g.groupId);
    }
  }
  for (const u of inv.unattributed) ids.add(u.id);
  return ids;
}

describe('observe (full environment)', () => {
  let inv: Inventory;
  beforeAll(async () => {
    inv = await observe(h.readers(), { environment: 'dev', now: () => new Date('2026-11-28T12:00:00Z') });
  });

  it('joins every service into tenants keyed by OrgID, with workspaces keyed by WorkspaceID', () => {
    expect(Object.keys(inv.tenants).sort()).toEqual(['org-acme', 'org-beta', 'org-gamma']);
    const acme = inv.tenants['org-acme']!;
    expect(acme.slug).toBe('acme');
    expect(acme.instances.map((i) => i.instanceId)).toEqual([seeded.acme!.instanceId]);
    expect(acme.securityGroups.map((g) => g.groupId)).toEqual([seeded.acme!.securityGroupId]);
    expect(acme.secrets.map((s) => s.arn)).toEqual([seeded.acme!.secretArn]);
    expect(acme.tunnels.map((t) => t.id)).toEqual([seeded.acme!.tunnelId]);
    expect(acme.dnsRecords.map((r) => r.id)).toEqual([seeded.acme!.dnsRecordId]);
    expect(acme.dnsRecords[0]).toMatchObject({ type: 'CNAME', name: `acme.${APP_DOMAIN}`, proxied: true, content: `${seeded.acme!.tunnelId}.cfargotunnel.com` });
    expect(Object.keys(acme.workspaces).sort()).toEqual(['ws-a1', 'ws-a2']);
    const ws = acme.workspaces['ws-a1']!;
    expect(ws.instances.map((i) => i.instanceId)).toEqual([seeded.acme!.workspaces['ws-a1']!.instanceId]);
    expect(ws.securityGroups.map((g) => g.groupId)).toEqual([seeded.acme!.workspaces['ws-a1']!.securityGroupId]);
    expect(acme.deletionProtection).toBe(false);
  });

  it('reads instance attributes, including the root volume size from DescribeVolumes', () => {
    const acme = inv.tenants['org-acme']!;
    expect(acme.instances[0]).toMatchObject({ instanceType: 't3.small', imageId: AMI, volumeGb: 30 });
    // The proxy shows a new instance as pending for one Describe, as AWS does.
    expect(['pending', 'running']).toContain(acme.instances[0]!.state);
    expect(acme.instances[0]!.securityGroupIds).toEqual([seeded.acme!.securityGroupId]);
    expect(acme.workspaces['ws-a2']!.instances[0]).toMatchObject({ instanceType: 't3.large', volumeGb: 80 });
    expect(acme.instances[0]!.tags[Tag.image]).toBe('ghcr.io/acme/platform:1.0.0');
  });

  it('marks a tenant whose live resources carry DeletionProtection=true', () => {
    expect(inv.tenants['org-beta']!.deletionProtection).toBe(true);
  });

  it('sees a secret scheduled for deletion, with its deletion date', () => {
    const gamma = inv.tenants['org-gamma']!;
    expect(gamma.secrets).toHaveLength(1);
    expect(gamma.secrets[0]!.deletedDate).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  });

  it('keeps resources with our marks but no attributable org aside', () => {
    expect(inv.unattributed.map((u) => [u.kind, u.id === strayInstanceId ? 'stray' : u.name]).sort()).toEqual([
      ['instance', 'stray'],
      ['tunnel', `${tunnelEnvPrefix('dev')}no-org-here`],
    ]);
  });

  it('never lists another environment’s resources', () => {
    const ids = allIds(inv);
    const foreign = otherEnv.flatMap((s) => [
      s.instanceId!,
      s.securityGroupId!,
      s.secretArn!,
      s.tunnelId!,
      s.dnsRecordId!,
      ...Object.values(s.workspaces).flatMap((w) => [w.instanceId!, w.securityGroupId!]),
    ]);
    expect(foreign).toHaveLength(7);
    for (const id of foreign) expect(ids.has(id)).toBe(false);
  });

  it('uses list calls only: one per EC2 listing, one ListSecrets, one page per Cloudflare list', () => {
    expect(inv.calls).toEqual({ ec2: 3, secretsmanager: 1, ssm: 0, cloudflare: 2 });
    expect(inv.scope).toEqual({ kind: 'all' });
    expect(inv.observedAt).toBe('2026-11-28T12:00:00.000Z');
  });
});

describe('observe (scoped to a pull request’s tenants)', () => {
  it('asks each service only about the given slugs, in six calls for one tenant', async () => {
    const awsBefore = h.aws.calls.length;
    const cfBefore = h.cf.requests.length;
    const inv = await observe(h.readers(), { environment: 'dev', appDomain: APP_DOMAIN, scope: { slugs: ['acme'], orgIds: ['org-acme'] } });
    expect(Object.keys(inv.tenants)).toEqual(['org-acme']);
    expect(Object.keys(inv.tenants['org-acme']!.workspaces).sort()).toEqual(['ws-a1', 'ws-a2']);
    expect(inv.tenants['org-acme']!.tunnels.map((t) => t.id)).toEqual([seeded.acme!.tunnelId]);
    expect(inv.tenants['org-acme']!.dnsRecords.map((r) => r.id)).toEqual([seeded.acme!.dnsRecordId]);
    expect(inv.tenants['org-acme']!.secrets.map((s) => s.arn)).toEqual([seeded.acme!.secretArn]);
    expect(inv.scope).toEqual({ kind: 'tenants', orgIds: ['org-acme'], slugs: ['acme'] });
    expect(inv.calls).toEqual({ ec2: 3, secretsmanager: 1, ssm: 0, cloudflare: 2 });
    // The emulators saw exactly those requests, and every one was a read.
    const awsCalls = h.aws.calls.slice(awsBefore);
    expect(awsCalls.map((c) => c.action).sort()).toEqual(['DescribeInstances', 'DescribeSecurityGroups', 'DescribeVolumes', 'ListSecrets']);
    const cfRequests = h.cf.requests.slice(cfBefore);
    expect(cfRequests.map((r) => r.method)).toEqual(['GET', 'GET']);
    expect(cfRequests.map((r) => r.query).join(' ')).toContain(`name.exact=acme.${APP_DOMAIN}`);
  });

  it('finds a deleted tenant’s leftovers by slug alone', async () => {
    const inv = await observe(h.readers(), { environment: 'dev', appDomain: APP_DOMAIN, scope: { slugs: ['beta'] } });
    expect(Object.keys(inv.tenants)).toEqual(['org-beta']);
    expect(inv.scope).toEqual({ kind: 'tenants', orgIds: ['org-beta'], slugs: ['beta'] });
  });

  it('switches to environment-wide Cloudflare listings past a handful of slugs, and still narrows to the scope', async () => {
    const slugs = ['acme', 'beta', 'nope-1', 'nope-2', 'nope-3', 'nope-4', 'nope-5'];
    const inv = await observe(h.readers(), { environment: 'dev', appDomain: APP_DOMAIN, scope: { slugs } });
    expect(Object.keys(inv.tenants).sort()).toEqual(['org-acme', 'org-beta']);
    expect(inv.calls.cloudflare).toBe(2);
    expect(inv.unattributed).toEqual([]);
  });

  it('observes nothing for an empty scope', async () => {
    const inv = await observe(h.readers(), { environment: 'dev', appDomain: APP_DOMAIN, scope: { slugs: [] } });
    expect(inv.tenants).toEqual({});
    expect(inv.calls).toEqual({ ec2: 0, secretsmanager: 0, ssm: 0, cloudflare: 0 });
  });
});

describe('observe edge cases', () => {
  it('sets aside an instance that lost its OrgID tag, re-attributes it when tagged again, and drops it once terminated', async () => {
    const dev = h.target('retag');
    const seededT = await seedTenant(dev, tenant('delta', 'org-delta'), { parts: ['instance'] });
    await dev.ec2.send(new DeleteTagsCommand({ Resources: [seededT.instanceId!], Tags: [{ Key: Tag.orgId }] }));
    let inv = await observe(h.readers(), { environment: 'retag' });
    expect(inv.tenants).toEqual({});
    expect(inv.unattributed.map((u) => u.id)).toEqual([seededT.instanceId]);
    await dev.ec2.send(new CreateTagsCommand({ Resources: [seededT.instanceId!], Tags: [{ Key: Tag.orgId, Value: 'org-delta' }] }));
    inv = await observe(h.readers(), { environment: 'retag' });
    expect(Object.keys(inv.tenants)).toEqual(['org-delta']);
    await dev.ec2.send(new TerminateInstancesCommand({ InstanceIds: [seededT.instanceId!] }));
    // Shutting down is still observed (a delete cascade waits for it); terminated is gone.
    inv = await observe(h.readers(), { environment: 'retag' });
    expect(inv.tenants['org-delta']!.instances.map((i) => i.state)).toEqual(['shutting-down']);
    inv = await observe(h.readers(), { environment: 'retag' });
    expect(inv.tenants).toEqual({});
  });

  it('gives plan and drift a reader with no way to mutate', () => {
    const readers = h.readers();
    expect(Object.keys(readers.ec2).sort()).toEqual(['describeInstances', 'describeSecurityGroups', 'describeVolumes']);
    expect(Object.keys(readers.secrets)).toEqual(['listSecrets']);
    expect(Object.keys(readers.cloudflare).sort()).toEqual(['listDnsRecords', 'listTunnels']);
    // @ts-expect-error — the reader type has no send(), so no command can be sent through it.
    expect(readers.ec2.send).toBeUndefined();
  });
});
