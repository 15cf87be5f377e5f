import { describe, expect, it } from 'vitest';
import { Tag } from '../../src/contract.js';
import { planChanges } from '../../src/plan/diff.js';
import { comparePlanBasis, fingerprintInventory } from '../../src/plan/fingerprint.js';
import { NOW, clone, desiredState, inventoryFor, inventoryOf, liveTenantFor, fleetSpec, tenant, workspace } from './fixtures.js';

const d = desiredState([tenant('acme', { workspaces: [workspace('alpha')] }), tenant('bolt'), tenant('new', { workspaces: [workspace('w')] })]);
const live = inventoryFor(desiredState([tenant('acme', { workspaces: [workspace('alpha')] }), tenant('bolt'), tenant('gone', { workspaces: [workspace('x')] })]));
live.tenants['org-acme']!.instances[0]!.instanceType = 't3.micro';
live.tenants['org-bolt']!.dnsRecords = [];
const plan = planChanges(d, live, { now: NOW });

describe('fingerprints', () => {
  it('cover what the plan touches and nothing else', () => {
    expect(plan.actions.map((a) => a.id)).toEqual([
      'resize:tenant:org-acme',
      'repair:tenant:org-bolt',
      'delete:tenant:org-gone',
      'create:tenant:org-new',
      'create:workspace:org-new:ws-w',
    ]);
    expect(Object.keys(plan.basis.fingerprints).sort()).toEqual(
      [
        'instance:i-t-org-acme',
        'absent:dnsRecord:org-bolt',
        'tunnel:tun-org-bolt',
        'cascade:tenant:org-gone',
        'instance:i-w-ws-x',
        'instance:i-t-org-gone',
        'securityGroup:sg-w-ws-x',
        'securityGroup:sg-t-org-gone',
        'secret:arn:aws:secretsmanager:us-east-2:123456789012:secret:tenantform/dev/tenants/org-gone/bootstrap-AbCdEf',
        'dnsRecord:dns-org-gone',
        'tunnel:tun-org-gone',
        'absent:tenant:org-new',
        'absent:workspace:org-new:ws-w',
      ].sort(),
    );
    expect(plan.basis.fingerprints['absent:tenant:org-new']).toBe('absent');
    expect(plan.basis.fingerprints['instance:i-t-org-acme']).toMatch(/^[0-9a-f]{16}$/);
  });

  it('an unchanged world gives no stale reasons', () => {
    expect(comparePlanBasis(plan, fingerprintInventory(clone(live), plan), d.hash)).toEqual([]);
  });

  it('pending → running and attributes the planner ignores do not make a plan stale', () => {
    const moved = clone(live);
    moved.tenants['org-acme']!.instances[0]!.state = 'pending';
    moved.tenants['org-acme']!.instances[0]!.tags['Owner'] = 'someone';
    moved.tenants['org-gone']!.tunnels[0]!.createdAt = '2030-01-01T00:00:00Z';
    expect(comparePlanBasis(plan, fingerprintInventory(moved, plan), d.hash)).toEqual([]);
  });

  it('lists what moved: changed, gone, appeared, a grown cascade, and the desired state', () => {
    const moved = clone(live);
    moved.tenants['org-acme']!.instances[0]!.instanceType = 't3.small'; // someone resized by hand
    moved.tenants['org-bolt']!.dnsRecords = clone(inventoryFor(desiredState([tenant('bolt')])).tenants['org-bolt']!.dnsRecords);
    moved.tenants['org-gone']!.tunnels = [];
    moved.tenants['org-gone']!.workspaces['ws-y'] = {
      orgId: 'org-gone',
      workspaceId: 'ws-y',
      instances: [],
      securityGroups: [{ groupId: 'sg-new', groupName: 'n', vpcId: undefined, tags: {} }],
    };
    moved.tenants['org-new'] = liveTenantFor(tenant('new'), fleetSpec());
    moved.tenants['org-new']!.instances[0]!.tags[Tag.image] = 'x';
    const reasons = comparePlanBasis(plan, fingerprintInventory(moved, plan), 'another-hash');
    expect(reasons.map((r) => [r.kind, r.key])).toEqual([
      ['desiredChanged', undefined],
      ['appeared', 'absent:dnsRecord:org-bolt'],
      ['appeared', 'absent:tenant:org-new'],
      ['changed', 'cascade:tenant:org-gone'],
      ['changed', 'instance:i-t-org-acme'],
      ['gone', 'tunnel:tun-org-gone'],
    ]);
    expect(reasons.every((r) => r.message.length > 0)).toBe(true);
    expect(reasons.find((r) => r.kind === 'gone')!.message).toBe('tunnel tun-org-gone no longer exists');
  });

  it('an empty inventory gives absent for every create', () => {
    const p = planChanges(d, inventoryOf([]), { now: NOW });
    expect(Object.values(p.basis.fingerprints).every((v) => v === 'absent')).toBe(true);
  });
});
