/** The orphan finder's rules as a table of named scenarios over plain data (no emulator). */
import { describe, expect, it } from 'vitest';
import { findOrphans, firstSeenKey, type FindInput } from '../../src/sweep/find.js';
import type { Inventory, LiveTenant } from '../../src/live/model.js';
import { clone, desiredState, fleetSpec, inventoryFor, inventoryOf, liveTenantFor, NOW, tenant, workspace } from '../plan/fixtures.js';

const OLD = '2025-01-01T00:00:00.000Z';
const HOUR = 3_600_000;

const acme = tenant('acme', { workspaces: [workspace('research')] });
const globex = tenant('globex');
const desired = desiredState([acme, globex]);
const ghost = (slug: string): LiveTenant => liveTenantFor(tenant(slug, { workspaces: [workspace(`${slug}-ws`)] }), desired.fleet);

/** Every first sighting long ago, so ages come out old unless a scenario says otherwise. */
function oldSightings(inv: Inventory): Map<string, string> {
  const m = new Map<string, string>();
  for (const t of Object.values(inv.tenants)) {
    for (const g of [...t.securityGroups, ...Object.values(t.workspaces).flatMap((w) => w.securityGroups)]) m.set(firstSeenKey('securityGroup', g.groupId), OLD);
    for (const s of t.secrets) m.set(firstSeenKey('secret', s.name), OLD);
    for (const r of t.dnsRecords) m.set(firstSeenKey('dnsRecord', r.id), OLD);
  }
  return m;
}

function find(inventory: Inventory, o: Partial<FindInput> = {}) {
  return findOrphans({ desired, inventory, claims: [], firstSeen: oldSightings(inventory), now: new Date(NOW), minAgeMs: 30 * 60_000, ...o });
}
const summary = (r: ReturnType<typeof find>) => r.orphans.map((x) => `${x.kind} ${x.id} ${x.reason} ${x.verdict}`).sort();

describe('findOrphans', () => {
  it('a fleet exactly as declared has no orphans and no lost claims', () => {
    const r = find(inventoryFor(desired));
    expect(r.orphans).toEqual([]);
    expect(r.lost).toEqual([]);
    expect(r.refusals).toEqual([]);
  });

  it('an undeclared tenant: every resource, instances first, one orphaned tenant', () => {
    const inv = inventoryFor(desired);
    const g = ghost('ghost');
    inv.tenants[g.orgId] = g;
    const r = find(inv);
    expect(r.orphanedTenants).toBe(1);
    expect(r.orphans.map((o) => o.kind)).toEqual(['instance', 'instance', 'securityGroup', 'securityGroup', 'secret', 'dnsRecord', 'tunnel']);
    expect(r.orphans.every((o) => o.reason === 'undeclaredTenant' && o.verdict === 'delete')).toBe(true);
  });

  it('younger than --min-age, or of unknown age, is too young', () => {
    const inv = inventoryFor(desired);
    const g = ghost('ghost');
    g.instances[0]!.launchTime = new Date(Date.parse(NOW) - 60_000).toISOString();
    inv.tenants[g.orgId] = g;
    const r = find(inv, { firstSeen: new Map() });
    const byKind = Object.fromEntries(r.orphans.map((o) => [`${o.kind}:${o.id}`, `${o.verdict} ${o.ageSource}`]));
    expect(byKind[`instance:${g.instances[0]!.instanceId}`]).toBe('tooYoung created');
    expect(byKind[`securityGroup:${g.securityGroups[0]!.groupId}`]).toBe('tooYoung unknown');
    // The tunnel's created_at is old: it alone would go.
    expect(byKind[`tunnel:${g.tunnels[0]!.id}`]).toBe('delete created');
    expect(find(inv, { firstSeen: new Map(), minAgeMs: 0 }).orphans.filter((o) => o.verdict === 'tooYoung')).toHaveLength(4);
    expect(find(inv, { minAgeMs: 2 * HOUR }).orphans.find((o) => o.kind === 'securityGroup')?.verdict).toBe('delete');
  });

  it('DeletionProtection on a resource protects its whole tenant; a protected declaration protects its leftovers', () => {
    const inv = inventoryFor(desired);
    const g = ghost('ghost');
    g.securityGroups[0]!.tags.DeletionProtection = 'true';
    inv.tenants[g.orgId] = g;
    expect(new Set(find(inv).orphans.map((o) => o.verdict))).toEqual(new Set(['protected']));

    const guarded = desiredState([tenant('acme', { deletionProtection: true, workspaces: [] })]);
    const inv2 = inventoryFor(desiredState([acme]));
    const r = findOrphans({ desired: guarded, inventory: inv2, claims: [], firstSeen: oldSightings(inv2), now: new Date(NOW), minAgeMs: 0 });
    expect(r.orphans.map((o) => `${o.reason} ${o.verdict}`)).toEqual(['undeclaredWorkspace protected', 'undeclaredWorkspace protected']);
  });

  it('partial leftovers of a declared tenant: an unused group, a tunnel without record, a record without tunnel', () => {
    const inv = inventoryFor(desired);
    const t = inv.tenants[globex.spec.orgId]!;
    t.securityGroups.push({ groupId: 'sg-spare', groupName: 'spare', vpcId: 'vpc-1', tags: { ...t.securityGroups[0]!.tags } });
    t.tunnels.push({ id: 'tun-spare', name: 'tenantform.dev.globex-old.org-globex', createdAt: OLD });
    t.dnsRecords.push({ ...t.dnsRecords[0]!, id: 'dns-dangling', name: 'old.apps.example.com', content: 'gone.cfargotunnel.com' });
    const firstSeen = oldSightings(inv);
    expect(summary(find(inv, { firstSeen }))).toEqual([
      'dnsRecord dns-dangling recordWithoutTunnel delete',
      'securityGroup sg-spare unusedSecurityGroup delete',
      'tunnel tun-spare tunnelWithoutRecord delete',
    ]);
  });

  it('a group another org’s instance uses is not unused', () => {
    const inv = inventoryFor(desired);
    const t = inv.tenants[globex.spec.orgId]!;
    t.securityGroups.push({ groupId: 'sg-shared', groupName: 'shared', vpcId: 'vpc-1', tags: { ...t.securityGroups[0]!.tags } });
    inv.tenants[acme.spec.orgId]!.instances[0]!.securityGroupIds.push('sg-shared');
    expect(find(inv).orphans).toEqual([]);
  });

  it('a bundle without the ManagedBy and Env tags is unmarked and never listed', () => {
    const inv = inventoryFor(desired);
    const g = ghost('ghost');
    g.secrets[0]!.tags = {};
    inv.tenants[g.orgId] = g;
    expect(find(inv).orphans.some((o) => o.kind === 'secret')).toBe(false);
  });

  it('unattributed resources are reported only', () => {
    const inv = inventoryFor(desired);
    inv.unattributed.push({ service: 'ec2', kind: 'instance', id: 'i-loose', name: undefined, reason: 'no OrgID tag' });
    expect(summary(find(inv))).toEqual(['instance i-loose unattributed reportOnly']);
  });

  it('orphaned tenants over guards.maxDeletes are refused unless --allow-deletes covers them', () => {
    const inv = inventoryFor(desired);
    for (const s of ['g1', 'g2', 'g3', 'g4']) {
      const g = ghost(s);
      inv.tenants[g.orgId] = g;
    }
    const limited = desiredState(desired.tenants, fleetSpec({ guards: { maxDeletes: 3, maxTerminations: 10 } }));
    const refused = find(inv, { desired: limited });
    expect(refused.refusals).toEqual([expect.stringMatching(/^maxDeletes: 4 orphaned tenants exceed guards.maxDeletes \(3\); pass --allow-deletes 4/)]);
    expect(new Set(refused.orphans.map((o) => o.verdict))).toEqual(new Set(['refused']));
    expect(find(inv, { desired: limited, allowDeletes: 3 }).refusals[0]).toMatch(/--allow-deletes 3 is not enough/);
    const allowed = find(inv, { desired: limited, allowDeletes: 4 });
    expect(allowed.refusals).toEqual([]);
    expect(new Set(allowed.orphans.map((o) => o.verdict))).toEqual(new Set(['delete']));
  });

  it('claims whose resource is gone are lost; live ones (ingress by its tunnel) are not', () => {
    const inv = inventoryFor(desired);
    const live = inv.tenants[acme.spec.orgId]!;
    const claim = (kind: string, resourceId: string) => ({
      kind: kind as 'instance',
      resourceId,
      orgId: acme.spec.orgId,
      slug: 'acme',
      workspaceId: undefined,
      at: OLD,
      runId: 'r1',
    });
    const claims = [
      claim('instance', live.instances[0]!.instanceId),
      claim('ingress', live.tunnels[0]!.id),
      claim('secret', live.secrets[0]!.name),
      claim('instance', 'i-gone'),
      claim('dnsRecord', 'dns-gone'),
    ];
    const gone = clone(inv);
    expect(find(gone, { claims }).lost.map((l) => `${l.kind} ${l.id}`)).toEqual(['instance i-gone', 'dnsRecord dns-gone']);
    // An empty inventory of another tenant changes nothing about acme's claims.
    expect(find(inventoryOf([]), { claims }).lost).toHaveLength(5);
  });
});
