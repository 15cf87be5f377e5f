/**
 * The planner's account rules (src/plan/accounts.ts), pure: where each tenant's actions act, a
 * canary flip as a move under the guards, and an unobserved account's tenants as unknown —
 * never absent (no create, no delete for them).
 */
import { describe, expect, it } from 'vitest';
import type { AccountObservation } from '../../src/accounts.js';
import type { Inventory, LiveTenant } from '../../src/live/model.js';
import { planChanges, planExitCode } from '../../src/plan/diff.js';
import { parsePlan } from '../../src/plan/file.js';
import { planDocument } from '../../src/plan/canonical.js';
import type { Plan } from '../../src/plan/model.js';
import { NOW, desiredState, fleetSpec, inventoryFor, inventoryOf, liveTenantFor, tenant, workspace } from './fixtures.js';

const MAIN: AccountObservation = { account: 'main', id: 'default', region: 'us-east-2', observed: true };
const CANARY: AccountObservation = { account: 'canary', id: '111111111111', region: 'us-east-2', roleArn: 'arn:aws:iam::111111111111:role/canary', observed: true };
const REFUSED: AccountObservation = { ...CANARY, observed: false, error: 'assume CANARY_ROLE_ARN arn:aws:iam::111111111111:role/canary: AccessDenied' };

/** Every AWS object of the tenant moved to `account`. */
function inAccount(t: LiveTenant, account: 'main' | 'canary'): LiveTenant {
  const put = <T extends object>(xs: T[]) => xs.map((x) => ({ ...x, account }));
  return {
    ...t,
    instances: put(t.instances),
    securityGroups: put(t.securityGroups),
    secrets: put(t.secrets),
    workspaces: Object.fromEntries(Object.entries(t.workspaces).map(([id, w]) => [id, { ...w, instances: put(w.instances), securityGroups: put(w.securityGroups) }])),
  };
}

function withAccounts(inv: Inventory, canary: AccountObservation): Inventory {
  return { ...inv, accounts: { main: MAIN, canary } };
}

const rows = (p: Plan) => p.actions.map((a) => [a.id, a.account, a.intent.account, a.move ? `${a.move.from}→${a.move.to}` : undefined]);

const acme = tenant('acme', { canary: true, workspaces: [workspace('alpha')] });
const bolt = tenant('bolt');
const fleet = fleetSpec();

describe('accounts in the plan', () => {
  it('without a canary account nothing is stamped and everything is main, as before', () => {
    const p = planChanges(desiredState([acme, bolt]), inventoryOf([]), { now: NOW });
    expect(p.actions.every((a) => a.account === undefined && a.intent.account === undefined)).toBe(true);
    expect(p.accounts).toBeUndefined();
  });

  it('a canary tenant and its workspaces act in the canary account, the others in main', () => {
    const p = planChanges(desiredState([acme, bolt]), withAccounts(inventoryOf([]), CANARY), { now: NOW });
    expect(rows(p)).toEqual([
      ['create:tenant:org-acme', 'canary', 'canary', undefined],
      ['create:workspace:org-acme:ws-alpha', 'canary', 'canary', undefined],
      ['create:tenant:org-bolt', 'main', 'main', undefined],
    ]);
    expect(p.accounts?.canary?.id).toBe('111111111111');
  });

  it('an undeclared tenant is deleted in the account its AWS objects are in', () => {
    const live = inAccount(liveTenantFor(acme, fleet), 'canary');
    const p = planChanges(desiredState([bolt]), withAccounts(inventoryOf([live, inAccount(liveTenantFor(bolt, fleet), 'main')]), CANARY), { now: NOW });
    expect(rows(p)).toEqual([['delete:tenant:org-acme', 'canary', 'canary', undefined]]);
  });

  it('a flipped tenant moves: repair in the new account (its tunnel and record are kept), then the old AWS cascade deleted, both halves held by a guard', () => {
    const flipped = tenant('acme', { canary: false, workspaces: [workspace('alpha')] });
    const inv = withAccounts(inventoryOf([inAccount(liveTenantFor(acme, fleet), 'canary')]), CANARY);
    const p = planChanges(desiredState([flipped], fleetSpec({ guards: { maxDeletes: 0, maxTerminations: 10, maxReplacements: 10 } })), inv, { now: NOW });
    expect(rows(p)).toEqual([
      ['repair:tenant:org-acme', 'main', 'main', 'canary→main'],
      ['create:workspace:org-acme:ws-alpha', 'main', 'main', undefined],
      ['delete:tenant:org-acme', 'canary', 'canary', 'canary→main'],
    ]);
    const del = p.actions.at(-1)!;
    expect(del.steps.some((s) => s.resource === 'tunnel' || s.resource === 'dnsRecord')).toBe(false);
    expect(p.actions.filter((a) => a.move).map((a) => a.blockedBy)).toEqual([['maxDeletes'], ['maxDeletes']]);
    expect(planExitCode(p)).toBe(3);
    // Passed by the overrides, counted as a replacement too; never by the `declared` guard.
    const allowed = planChanges(desiredState([flipped], fleetSpec({ guards: { maxDeletes: 0, maxTerminations: 10, maxReplacements: 0 } })), inv, {
      now: NOW,
      allowDeletes: 1,
      allowReplacements: 1,
    });
    expect(allowed.actions.every((a) => !a.blockedBy)).toBe(true);
    expect(allowed.guards.filter((g) => g.guard === 'maxReplacements').map((g) => g.blocking)).toEqual([false]);
    expect(planExitCode(allowed)).toBe(2);
  });

  it('an unobserved canary account: no action for its tenants (not created, not deleted), one finding naming the role, exit 1', () => {
    // acme is declared canary; ghost is undeclared with only its Cloudflare side seen (its AWS side may be in the canary account).
    const ghost = liveTenantFor(tenant('ghost'), fleet);
    const ghostCloudflareOnly: LiveTenant = { ...ghost, instances: [], securityGroups: [], secrets: [], workspaces: {} };
    const inv = withAccounts(inventoryOf([inAccount(liveTenantFor(bolt, fleet), 'main'), ghostCloudflareOnly]), REFUSED);
    const p = planChanges(desiredState([acme, bolt, tenant('cove')]), inv, { now: NOW });
    expect(rows(p)).toEqual([['create:tenant:org-cove', 'main', 'main', undefined]]);
    const finding = p.guards.find((g) => g.guard === 'account')!;
    expect(finding.blocking).toBe(false);
    expect(finding.message).toContain('arn:aws:iam::111111111111:role/canary');
    expect(finding.message).toContain('acme, ghost');
    expect(planExitCode(p)).toBe(1);
  });

  it("a saved plan keeps each action's account, and an intent in another account than its action is refused", () => {
    const p = planChanges(desiredState([acme, bolt]), withAccounts(inventoryOf([]), CANARY), { now: NOW });
    const back = parsePlan(JSON.parse(JSON.stringify(planDocument(p))), 'plan.json');
    expect(rows(back)).toEqual(rows(p));
    expect(back.accounts).toEqual(p.accounts);
    const doc = JSON.parse(JSON.stringify(planDocument(p))) as { actions: Array<{ intent: { account?: string } }> };
    doc.actions[0]!.intent.account = 'main';
    expect(() => parsePlan(doc, 'plan.json')).toThrow(/account/);
  });

  it('an inventory equal to the desired state in the right accounts plans nothing', () => {
    const desired = desiredState([acme, bolt]);
    const base = inventoryFor(desired);
    const inv = withAccounts(
      { ...base, tenants: { 'org-acme': inAccount(base.tenants['org-acme']!, 'canary'), 'org-bolt': inAccount(base.tenants['org-bolt']!, 'main') } },
      CANARY,
    );
    expect(planChanges(desired, inv, { now: NOW }).actions).toEqual([]);
  });
});

describe('accounts in the rendered plan', () => {
  it('text and markdown say which account each action is in, and show a move as one', async () => {
    const { renderPlanText } = await import('../../src/render/plan-text.js');
    const { renderPlanMarkdown } = await import('../../src/render/plan-markdown.js');
    const flipped = tenant('acme', { canary: false });
    const inv = withAccounts(inventoryOf([inAccount(liveTenantFor(tenant('acme', { canary: true }), fleet), 'canary')]), CANARY);
    const p = planChanges(desiredState([flipped, bolt]), inv, { now: NOW, allowDeletes: 1 });
    const text = renderPlanText(p, { color: false });
    expect(text).toMatch(/move canary → main \(repair\)\s+tenant acme.*\[main us-east-2\]/);
    expect(text).toMatch(/move canary → main \(delete\)\s+tenant acme.*\[canary 111111111111\/us-east-2\]/);
    const md = renderPlanMarkdown(p);
    expect(md).toContain('move canary → main (delete)');
    expect(md).toContain('canary 111111111111/us-east-2');
  });
});
