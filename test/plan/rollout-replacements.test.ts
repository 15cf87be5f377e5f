/** Replacements roll in the redeploys' waves (canaries first) and are bounded by guards.maxReplacements. */
import { describe, expect, it } from 'vitest';
import { Tag } from '../../src/contract.js';
import { planChanges, planExitCode, type PlanOptions } from '../../src/plan/diff.js';
import { evaluateDestructionGuards } from '../../src/plan/guards.js';
import { planSettings } from '../../src/plan/intent.js';
import { planDocument } from '../../src/plan/canonical.js';
import { parsePlan } from '../../src/plan/file.js';
import type { DesiredState } from '../../src/desired/model.js';
import type { Inventory } from '../../src/live/model.js';
import type { Plan } from '../../src/plan/model.js';
import { NOW, desiredState, fleetSpec, inventoryFor, tenant, workspace } from './fixtures.js';

function plan(d: DesiredState, inv: Inventory, opts: Partial<PlanOptions> = {}): Plan {
  return planChanges(d, inv, { now: NOW, ...opts });
}

const names = ['t1', 't2', 't3', 't4', 'c1'];
function fleet(maxReplacements?: number): DesiredState {
  return desiredState(
    names.map((n) => tenant(n, { canary: n === 'c1', workspaces: n === 't1' ? [workspace('w')] : [] })),
    fleetSpec({
      rollout: { batches: [{ count: 1 }, { percent: 50 }], maxFailureRatio: 0.25 },
      guards: { maxDeletes: 3, maxTerminations: 10, ...(maxReplacements !== undefined ? { maxReplacements } : {}) },
    }),
  );
}

describe('replacements in rollout waves', () => {
  it('both halves of each replacement get their tenant wave: canaries first, then the batches, like redeploys', () => {
    const d = fleet(10);
    const p = plan(d, inventoryFor(d), { replace: ['t1', 't1/w', 't2', 't3', 't4', 'c1'] });
    const waves = p.actions.filter((a) => a.replacement).map((a) => `${a.kind} ${a.target.slug}${a.target.workspaceId ? '/w' : ''} ${a.wave}`);
    expect(waves).toEqual([
      'delete c1 0',
      'create c1 0',
      'delete t1 1',
      'create t1 1',
      'delete t1/w 1',
      'create t1/w 1',
      'delete t2 2',
      'create t2 2',
      'delete t3 2',
      'create t3 2',
      'delete t4 3',
      'create t4 3',
    ]);
  });

  it('redeploys and replacements share the waves, counted by tenant', () => {
    const d = fleet(10);
    const inv = inventoryFor(d);
    for (const t of Object.values(inv.tenants)) if (t.slug !== 't2') t.instances[0]!.tags[Tag.image] = 'old';
    const p = plan(d, inv, { replace: ['t2'] });
    const byTenant = Object.fromEntries(p.actions.filter((a) => a.wave !== undefined && a.target.kind === 'tenant').map((a) => [a.target.slug, a.wave]));
    expect(byTenant).toEqual({ c1: 0, t1: 1, t2: 2, t3: 2, t4: 3 });
  });
});

describe('maxReplacements', () => {
  it('more replacements than guards.maxReplacements block both halves (exit 3) and name the override', () => {
    const d = fleet(2);
    const p = plan(d, inventoryFor(d), { replace: ['t1', 't2', 't3'] });
    const finding = p.guards.find((g) => g.guard === 'maxReplacements')!;
    expect(finding).toMatchObject({ blocking: true });
    expect(finding.message).toBe('3 instance replacements exceed guards.maxReplacements (2); pass --allow-replacements 3 to proceed');
    expect(finding.actionIds).toHaveLength(6);
    expect(p.actions.filter((a) => a.replacement).every((a) => a.blockedBy?.includes('maxReplacements'))).toBe(true);
    expect(planExitCode(p)).toBe(3);
  });

  it('--allow-replacements N lifts it when N covers them, not below', () => {
    const d = fleet(2);
    expect(planExitCode(plan(d, inventoryFor(d), { replace: ['t1', 't2', 't3'], allowReplacements: 2 }))).toBe(3);
    const allowed = plan(d, inventoryFor(d), { replace: ['t1', 't2', 't3'], allowReplacements: 3 });
    expect(allowed.guards.find((g) => g.guard === 'maxReplacements')).toMatchObject({ blocking: false });
    expect(allowed.actions.every((a) => a.blockedBy === undefined)).toBe(true);
    expect(planExitCode(allowed)).toBe(2);
  });

  it('at or under the limit there is no finding', () => {
    const d = fleet(2);
    expect(plan(d, inventoryFor(d), { replace: ['t1', 't2'] }).guards).toEqual([]);
  });

  it('is re-derived from the actions for apply (a saved plan carries the limit in its settings)', () => {
    const d = fleet(2);
    const p = plan(d, inventoryFor(d), { replace: ['t1', 't2', 't3'], allowReplacements: 3 });
    const saved = parsePlan(JSON.parse(JSON.stringify(planDocument(p))), 'plan.json');
    expect(saved.settings?.guards.maxReplacements).toBe(2);
    // Applied without the override, the same actions are refused again.
    const again = evaluateDestructionGuards(saved.actions, { inventory: inventoryFor(d), limits: saved.settings!.guards, allow: {} });
    expect(again.findings.map((f) => [f.guard, f.blocking])).toEqual([['maxReplacements', true]]);
    expect(planSettings(d.fleet).guards.maxReplacements).toBe(2);
  });

  it('a spec without the limit (made before the guard existed) has no maxReplacements finding', () => {
    const d = fleet();
    expect(plan(d, inventoryFor(d), { replace: ['t1', 't2', 't3', 't4', 'c1'] }).guards.map((g) => g.guard)).not.toContain('maxReplacements');
  });
});
