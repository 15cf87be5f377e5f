import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Tag } from '../../src/contract.js';
import type { DesiredState } from '../../src/desired/model.js';
import type { Inventory, LiveInstance, LiveTenant, LiveWorkspace } from '../../src/live/model.js';
import { canonicalPlan } from '../../src/plan/canonical.js';
import { planChanges, planExitCode } from '../../src/plan/diff.js';
import { parsePlan } from '../../src/plan/file.js';
import { ENV, NOW, desiredState, fleetSpec, inventoryFor, tenant, workspace } from './fixtures.js';

const SLUGS = ['acme', 'bolt', 'core', 'dune', 'echo', 'fern'];
const TYPES = ['t3.small', 't3.medium', 'T3.Large', 't3.large', ''];

const desiredArb: fc.Arbitrary<DesiredState> = fc
  .record({
    tenants: fc.uniqueArray(
      fc.record({
        slug: fc.constantFrom(...SLUGS),
        canary: fc.boolean(),
        power: fc.constantFrom('running' as const, 'stopped' as const),
        deletionProtection: fc.boolean(),
        instanceType: fc.constantFrom('t3.small', 't3.medium'),
        image: fc.constantFrom('img:1', 'img:2'),
        workspaces: fc.uniqueArray(
          fc.record({
            name: fc.constantFrom('w1', 'w2', 'w3'),
            runtime: fc.constantFrom('claude', 'hermes'),
            power: fc.constantFrom('running' as const, 'stopped' as const),
            image: fc.option(fc.constantFrom('ws:1', 'ws:2'), { nil: undefined }),
          }),
          { selector: (w) => w.name, maxLength: 3 },
        ),
      }),
      { selector: (t) => t.slug, maxLength: SLUGS.length },
    ),
    batches: fc.array(fc.oneof(fc.record({ count: fc.integer({ min: -2, max: 5 }) }), fc.record({ percent: fc.double({ min: -10, max: 200, noNaN: false }) })), {
      maxLength: 3,
    }),
    maxDeletes: fc.integer({ min: 0, max: 4 }),
  })
  .map(({ tenants, batches, maxDeletes }) =>
    desiredState(
      tenants.map((t) => tenant(t.slug, { ...t, workspaces: t.workspaces.map((w) => workspace(w.name, w)) })),
      fleetSpec({ rollout: { batches, maxFailureRatio: 0.2 }, guards: { maxDeletes, maxTerminations: 5 } }),
    ),
  );

const tagsArb = fc.dictionary(
  fc.constantFrom(Tag.orgSlug, Tag.deletionProtection, Tag.image, Tag.runtime, Tag.tier, Tag.workspaceId, 'Other'),
  fc.constantFrom('true', 'false', 'acme', 'img:1', 'claude', 'T4', ''),
);

const instanceArb: fc.Arbitrary<LiveInstance> = fc.record({
  instanceId: fc.constantFrom('i-1', 'i-2', 'i-3', 'i-4'),
  state: fc.constantFrom('pending', 'running', 'stopping', 'stopped', 'shutting-down', 'terminated') as fc.Arbitrary<LiveInstance['state']>,
  instanceType: fc.constantFrom(...TYPES),
  imageId: fc.constantFrom('ami-0base', 'ami-0old', ''),
  volumeGb: fc.option(fc.integer({ min: 0, max: 120 }), { nil: undefined }),
  securityGroupIds: fc.array(fc.constantFrom('sg-1', 'sg-2'), { maxLength: 2 }),
  launchTime: fc.option(fc.constantFrom('2025-01-01T00:00:00Z', '2025-02-01T00:00:00Z'), { nil: undefined }),
  tags: tagsArb,
});

const groupArb = fc.record({
  groupId: fc.constantFrom('sg-1', 'sg-2', 'sg-3'),
  groupName: fc.string(),
  vpcId: fc.option(fc.constant('vpc-1'), { nil: undefined }),
  tags: tagsArb,
});

const workspaceArb = (orgId: string, workspaceId: string): fc.Arbitrary<LiveWorkspace> =>
  fc.record({
    orgId: fc.constant(orgId),
    workspaceId: fc.constant(workspaceId),
    instances: fc.array(instanceArb, { maxLength: 3 }),
    securityGroups: fc.array(groupArb, { maxLength: 2 }),
  });

const liveTenantArb = (orgId: string): fc.Arbitrary<LiveTenant> =>
  fc.record({
    orgId: fc.constant(orgId),
    slug: fc.option(fc.constantFrom(...SLUGS, 'renamed'), { nil: undefined }),
    instances: fc.array(instanceArb, { maxLength: 3 }),
    securityGroups: fc.array(groupArb, { maxLength: 2 }),
    secrets: fc.array(
      fc.record({
        arn: fc.constantFrom('arn:s1', 'arn:s2'),
        name: fc.string(),
        deletedDate: fc.option(fc.constant('2025-05-01T00:00:00Z'), { nil: undefined }),
        tags: tagsArb,
      }),
      { maxLength: 2 },
    ),
    tunnels: fc.array(
      fc.record({ id: fc.constantFrom('tun-1', 'tun-2'), name: fc.string(), createdAt: fc.option(fc.constant('2025-01-01T00:00:00Z'), { nil: undefined }) }),
      { maxLength: 2 },
    ),
    dnsRecords: fc.array(
      fc.record({
        id: fc.constantFrom('dns-1', 'dns-2'),
        name: fc.constantFrom('acme.apps.example.test', 'ACME.apps.example.test.', 'x'),
        type: fc.constantFrom('CNAME', 'A', 'cname'),
        content: fc.constantFrom('tun-1.cfargotunnel.com', 'tun-2.cfargotunnel.com', '1.2.3.4'),
        proxied: fc.boolean(),
        comment: fc.option(fc.string(), { nil: undefined }),
        tags: fc.array(fc.string(), { maxLength: 2 }),
      }),
      { maxLength: 2 },
    ),
    workspaces: fc
      .uniqueArray(fc.constantFrom('ws-w1', 'ws-w2', 'ws-other'), { maxLength: 3 })
      .chain((wids) =>
        wids.length === 0 ? fc.constant({}) : fc.tuple(...wids.map((w) => workspaceArb(orgId, w))).map((ws) => Object.fromEntries(ws.map((w) => [w.workspaceId, w]))),
      ),
    deletionProtection: fc.boolean(),
  });

const inventoryArb: fc.Arbitrary<Inventory> = fc
  .record({
    orgIds: fc.uniqueArray(fc.constantFrom(...SLUGS.map((s) => `org-${s}`), 'org-stranger'), { maxLength: 7 }),
    scope: fc.oneof(
      fc.constant({ kind: 'all' as const }),
      fc.record({
        kind: fc.constant('tenants' as const),
        orgIds: fc.array(fc.constantFrom('org-acme', 'org-bolt', 'org-stranger'), { maxLength: 2 }),
        slugs: fc.array(fc.constantFrom(...SLUGS), { maxLength: 2 }),
      }),
    ),
  })
  .chain(({ orgIds, scope }) =>
    (orgIds.length === 0 ? fc.constant([] as LiveTenant[]) : fc.tuple(...orgIds.map(liveTenantArb))).map((tenants): Inventory => ({
      environment: ENV,
      observedAt: NOW,
      scope,
      tenants: Object.fromEntries(tenants.map((t) => [t.orgId, t])),
      unattributed: [],
      calls: { ec2: 0, secretsmanager: 0, ssm: 0, cloudflare: 0 },
    })),
  );

describe('planChanges: properties', () => {
  it('planning an inventory equal to the desired state yields nothing', () => {
    fc.assert(
      fc.property(desiredArb, (d) => {
        const p = planChanges(d, inventoryFor(d), { now: NOW });
        expect(p.actions).toEqual([]);
        expect(p.guards).toEqual([]);
        expect(planExitCode(p)).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on arbitrary inventories, and its plans keep their invariants', () => {
    fc.assert(
      fc.property(fc.option(desiredArb, { nil: undefined }), inventoryArb, fc.option(fc.integer({ min: 0, max: 10 }), { nil: undefined }), (d, inv, allowDeletes) => {
        const p = planChanges(d, inv, { now: NOW, allowDeletes });
        // Ids are unique, the summary adds up, and the plan survives the file round trip unchanged.
        expect(new Set(p.actions.map((a) => a.id)).size).toBe(p.actions.length);
        expect(Object.values(p.summary).reduce((x, y) => x + y, 0)).toBe(p.actions.length);
        expect(parsePlan(JSON.parse(JSON.stringify(canonicalPlan(p))), 'property')).toEqual(canonicalPlan(p));
        // Every blocked action is named by a blocking finding of the same guard.
        for (const a of p.actions) {
          for (const g of a.blockedBy ?? []) expect(p.guards.some((f) => f.guard === g && f.blocking && f.actionIds.includes(a.id))).toBe(true);
        }
        // An empty or unreadable desired state never plans anything, deletes least of all.
        if (!d || d.tenants.length === 0) expect(p.actions).toEqual([]);
        // Never a delete outside the scope.
        if (inv.scope.kind === 'tenants') {
          const { orgIds, slugs } = inv.scope;
          for (const a of p.actions) {
            const declaredSlug = d?.tenants.find((t) => t.spec.orgId === a.target.orgId)?.spec.slug;
            const liveSlug = inv.tenants[a.target.orgId]?.slug;
            expect(orgIds.includes(a.target.orgId) || [a.target.slug, declaredSlug, liveSlug].some((s) => s !== undefined && slugs.includes(s))).toBe(true);
          }
        }
        // Deletes never invent targets: every deleted tenant is live and undeclared.
        for (const a of p.actions.filter((x) => x.kind === 'delete' && !x.replacement && x.target.kind === 'tenant')) {
          expect(inv.tenants[a.target.orgId]).toBeDefined();
          expect(d?.tenants.some((t) => t.spec.orgId === a.target.orgId)).toBe(false);
        }
        expect([0, 2, 3]).toContain(planExitCode(p));
      }),
      { numRuns: 500 },
    );
  });

  it('is a function: the same inputs give the same plan', () => {
    fc.assert(
      fc.property(desiredArb, inventoryArb, (d, inv) => {
        expect(JSON.stringify(planChanges(d, inv, { now: NOW }))).toBe(JSON.stringify(planChanges(structuredClone(d), structuredClone(inv), { now: NOW })));
      }),
      { numRuns: 100 },
    );
  });
});
