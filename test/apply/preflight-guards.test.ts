/**
 * apply's preflight re-derives the destruction guards from the actions (issue 8 item 0): what the
 * plan says about them is ignored; what it says about other guards only ever adds refusals.
 */
import { describe, expect, it } from 'vitest';
import { evaluateGuards } from '../../src/apply/preflight.js';
import { planChanges } from '../../src/plan/diff.js';
import type { Plan } from '../../src/plan/model.js';
import { NOW, desiredState, inventoryFor, tenant } from '../plan/fixtures.js';

const live = inventoryFor(desiredState(['keep', 'd1', 'd2', 'd3', 'd4'].map((s) => tenant(s, { deletionProtection: s === 'd1' }))));
const desired = desiredState([tenant('keep')]);

/** The planner's plan with every guard mark and finding stripped, as an edited file could have it. */
function stripped(p: Plan): Plan {
  return { ...p, guards: [], actions: p.actions.map(({ blockedBy: _b, ...a }) => a) };
}

describe('evaluateGuards', () => {
  it('refuses a plan whose guard list and blocks were removed, from the actions and the live tags', () => {
    const v = evaluateGuards(stripped(planChanges(desired, live, { now: NOW, allowDeletes: 10 })), { inventory: live, desired, allow: {} });
    expect(v.refusals.map((g) => g.guard).sort()).toEqual(['deletionProtection', 'maxDeletes']);
    expect(v.plan.actions.find((a) => a.target.slug === 'd1')!.blockedBy).toEqual(['deletionProtection', 'maxDeletes']);
  });

  it('lifts maxDeletes for this run with --allow-deletes even when the saved plan was made without it; never protection', () => {
    const v = evaluateGuards(planChanges(desired, live, { now: NOW }), { inventory: live, desired, allow: { deletes: 4 } });
    expect(v.refusals.map((g) => g.guard)).toEqual(['deletionProtection']);
    expect(v.plan.actions.filter((a) => a.blockedBy !== undefined).map((a) => a.target.slug)).toEqual(['d1']);
  });

  it("keeps the plan's blocking findings and marks of other kinds", () => {
    const p = planChanges(desired, inventoryFor(desired), { now: NOW });
    const marked: Plan = {
      ...p,
      guards: [{ guard: 'emptyDesired', blocking: true, message: 'm', actionIds: [] }],
      actions: [
        {
          id: 'stop:tenant:org-keep',
          kind: 'stop',
          target: { kind: 'tenant', orgId: 'org-keep', slug: 'keep' },
          steps: [],
          before: null,
          after: null,
          reason: 'r',
          intent: {
            kind: 'tenant',
            tenant: {
              orgId: 'org-keep',
              slug: 'keep',
              instanceType: 't3.small',
              volumeGb: 30,
              ami: 'ami-0keep',
              image: 'ghcr.io/x/p:1',
              power: 'stopped',
              deletionProtection: false,
            },
          },
          blockedBy: ['scope'],
        },
      ],
    };
    const v = evaluateGuards(marked, { inventory: inventoryFor(desired), desired, allow: {} });
    expect(v.refusals.map((g) => g.guard)).toEqual(['emptyDesired']);
    expect(v.plan.actions[0]!.blockedBy).toEqual(['scope']);
  });
});
