import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chooseDeepChecks, type RotationMark } from '../../src/drift/rotation.js';

const fleet = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ orgId: `org-${i}`, slug: `t${String(i).padStart(4, '0')}`, cost: { cloudflare: 1, secretsmanager: 1 } }));

/** Runs the rotation as scheduled runs would, recording each run's choice with the next sequence number. */
function rotate(n: number, budget: number, runs: number): string[][] {
  const candidates = fleet(n);
  const marks = new Map<string, number>();
  const out: string[][] = [];
  for (let run = 1; run <= runs; run++) {
    const choice = chooseDeepChecks(
      candidates,
      [...marks].map(([orgId, runSeq]): RotationMark => ({ orgId, runSeq })),
      budget,
    );
    for (const c of choice.checked) marks.set(c.orgId, run);
    out.push(choice.checked.map((c) => c.orgId));
  }
  return out;
}

describe('deep-check rotation', () => {
  it('covers any fleet in ⌈N/budget⌉ runs, and no tenant is checked twice before every tenant was checked once', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 25 }), (n, budget) => {
        const runs = rotate(n, budget, Math.ceil(n / budget));
        const order = runs.flat();
        const firstCover = order.slice(0, n);
        expect(new Set(firstCover).size).toBe(n);
        for (const r of runs) expect(r.length).toBe(Math.min(budget, n));
      }),
    );
  });

  it('stops at the first tenant that no longer fits, keeping the order, and says when the budget is below one tenant', () => {
    const candidates = [
      { orgId: 'a', slug: 'a', cost: { cloudflare: 1, secretsmanager: 1 } },
      { orgId: 'b', slug: 'b', cost: { cloudflare: 2, secretsmanager: 1 } },
      { orgId: 'c', slug: 'c', cost: { cloudflare: 0, secretsmanager: 1 } },
    ];
    const two = chooseDeepChecks(candidates, [], 2);
    expect(two.checked.map((c) => c.slug)).toEqual(['a']);
    expect(two.pending.map((c) => c.slug)).toEqual(['b', 'c']);
    expect(chooseDeepChecks(candidates, [{ orgId: 'a', runSeq: 1 }], 1)).toMatchObject({ checked: [], budgetTooSmall: true });
    expect(chooseDeepChecks(candidates, [], undefined).checked).toHaveLength(3);
  });
});
