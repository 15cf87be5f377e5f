/**
 * A plan saved by `plan --changed-since` loaded only its scope's tenants; `apply <plan>` loads the
 * whole fleet. The stale check must compare the same tenants, or every scoped plan is refused.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { staleReasons } from '../../src/apply/preflight.js';
import { loadFleet } from '../../src/desired/load.js';
import type { Inventory } from '../../src/live/model.js';
import { planChanges } from '../../src/plan/diff.js';
import { BASE_FILES, makeFleet, removeFleets, tenantYaml, workspaceYaml } from '../desired/fleet-fixture.js';
import { NOW, inventoryOf } from '../plan/fixtures.js';

afterAll(removeFleets);

const GLOBEX_ORG = '5f0c6a52-3b1e-4c8e-9a57-2d41e8a0b002';
const OPS = 'tenants/globex/workspaces/ops.yaml';
const twoTenants = {
  'tenants/globex/tenant.yaml': tenantYaml('globex', GLOBEX_ORG),
  [OPS]: workspaceYaml('0b8e4f7a-61c2-4d3e-8f90-a1b2c3d4e002'),
};

/** What `plan --changed-since` saves when only globex changed: a partial load, a scoped inventory. */
async function scopedPlan(dir: string) {
  const partial = (await loadFleet(dir, { only: { slugs: ['globex'] } })).state!;
  const scope: Inventory['scope'] = { kind: 'tenants', orgIds: [GLOBEX_ORG], slugs: ['globex'] };
  const inventory = inventoryOf([], { scope });
  return { saved: planChanges(partial, inventory, { now: NOW }), inventory };
}

describe('a saved scoped plan at apply', () => {
  it('is not stale against the whole fleet it was scoped from', async () => {
    const dir = makeFleet(twoTenants);
    const { saved, inventory } = await scopedPlan(dir);
    expect(saved.actions.length).toBeGreaterThan(0);
    const full = (await loadFleet(dir)).state!;
    expect(full.hash).not.toBe(saved.basis.desiredHash);
    expect(staleReasons(saved, inventory, full)).toEqual([]);
  });

  it('is stale when a tenant in its scope changed, and not when one outside it did', async () => {
    const { saved, inventory } = await scopedPlan(makeFleet(twoTenants));
    const inScope = (await loadFleet(makeFleet({ ...twoTenants, [OPS]: `${twoTenants[OPS]}power: stopped\n` }))).state!;
    expect(staleReasons(saved, inventory, inScope).map((r) => r.kind)).toEqual(['desiredChanged']);
    const W = 'tenants/acme/workspaces/main.yaml';
    const outside = (await loadFleet(makeFleet({ ...twoTenants, [W]: `${BASE_FILES[W]}power: stopped\n` }))).state!;
    expect(staleReasons(saved, inventory, outside)).toEqual([]);
  });
});
