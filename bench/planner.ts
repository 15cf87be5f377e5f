/**
 * Planner benchmark: a synthetic fleet of 10,000 tenants × 5 workspaces, half of it equal to the
 * desired state and half carrying one change each (redeploys, resizes, repairs, workspace
 * creates and deletes, tenant creates), plus 100 undeclared live tenants (guarded deletes).
 *
 * planMs: median wall time of `planChanges` (fingerprints included) over 5 runs after a warm-up.
 * baselineMs: median time to `structuredClone` the same inventory in the same process — one
 * plain pass over every live object, the least any planner over this data must cost.
 * peakRssMb: the process's peak resident set (getrusage maxrss) read right after the planning
 * runs and before the baseline, fixture generation included, so it bounds the planner's
 * footprint from above; rssBeforeMb is the resident set just before the first planning run.
 *
 * Run directly: `node --import tsx bench/planner.ts`.
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Tag } from '../src/contract.js';
import type { Inventory } from '../src/live/model.js';
import { planChanges } from '../src/plan/diff.js';
import type { Plan } from '../src/plan/model.js';
import { NOW, desiredState, fleetSpec, inventoryFor, inventoryOf, liveTenantFor, tenant, workspace } from '../test/plan/fixtures.js';

export interface PlannerBench {
  tenants: number;
  workspaces: number;
  liveObjects: number;
  actions: number;
  planMs: number;
  baselineMs: number;
  rssBeforeMb: number;
  peakRssMb: number;
}

const TENANTS = 10_000;
const WORKSPACES_PER_TENANT = 5;
const UNDECLARED = 100;
const RUNS = 5;

function fleet(): { desired: ReturnType<typeof desiredState>; inventory: Inventory } {
  const names = ['a', 'b', 'c', 'd', 'e'];
  const tenants = Array.from({ length: TENANTS }, (_, i) =>
    tenant(`t${String(i).padStart(5, '0')}`, {
      canary: i % 500 === 0,
      workspaces: names.map((n) => workspace(n, { id: `ws-${i}-${n}`, image: i % 2 === 0 ? 'ghcr.io/acme/claude:2' : undefined })),
    }),
  );
  const desired = desiredState(tenants, fleetSpec({ rollout: { batches: [{ count: 10 }, { percent: 10 }, { percent: 50 }], maxFailureRatio: 0.2 } }));
  const inventory = inventoryFor(desired);
  for (let i = 0; i < TENANTS; i += 1) {
    const live = inventory.tenants[`org-t${String(i).padStart(5, '0')}`]!;
    switch (i % 10) {
      case 5:
        live.instances[0]!.tags[Tag.image] = 'ghcr.io/acme/platform:0.9.0';
        break;
      case 6:
        live.instances[0]!.instanceType = 't3.micro';
        break;
      case 7:
        live.dnsRecords = [];
        break;
      case 8: {
        const ws = live.workspaces;
        const [first] = Object.keys(ws);
        const moved = ws[first!]!;
        delete ws[first!];
        ws[`ws-${i}-old`] = { ...moved, workspaceId: `ws-${i}-old` };
        break;
      }
      case 9:
        delete inventory.tenants[live.orgId];
        break;
      default:
        break;
    }
  }
  const extra = inventoryOf(Array.from({ length: UNDECLARED }, (_, i) => liveTenantFor(tenant(`gone${i}`), desired.fleet)));
  Object.assign(inventory.tenants, extra.tenants);
  return { desired, inventory };
}

function countLiveObjects(inv: Inventory): number {
  let n = 0;
  for (const t of Object.values(inv.tenants)) {
    n += t.instances.length + t.securityGroups.length + t.secrets.length + t.tunnels.length + t.dnsRecords.length;
    for (const w of Object.values(t.workspaces)) n += w.instances.length + w.securityGroups.length;
  }
  return n;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const mb = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10;

export async function benchPlanner(): Promise<PlannerBench> {
  const { desired, inventory } = fleet();
  const rssBefore = process.memoryUsage().rss;

  let plan: Plan | undefined;
  planChanges(desired, inventory, { now: NOW, allowDeletes: UNDECLARED });
  const planTimes: number[] = [];
  for (let r = 0; r < RUNS; r += 1) {
    const t0 = performance.now();
    plan = planChanges(desired, inventory, { now: NOW, allowDeletes: UNDECLARED });
    planTimes.push(performance.now() - t0);
  }

  const peakAfterPlanning = process.resourceUsage().maxRSS * 1024;

  structuredClone(inventory);
  const baselineTimes: number[] = [];
  for (let r = 0; r < RUNS; r += 1) {
    const t0 = performance.now();
    structuredClone(inventory);
    baselineTimes.push(performance.now() - t0);
  }

  return {
    tenants: TENANTS,
    workspaces: TENANTS * WORKSPACES_PER_TENANT,
    liveObjects: countLiveObjects(inventory),
    actions: plan!.actions.length,
    planMs: Math.round(median(planTimes)),
    baselineMs: Math.round(median(baselineTimes)),
    rssBeforeMb: mb(rssBefore),
    peakRssMb: mb(peakAfterPlanning),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await benchPlanner();
  console.log(`planner: ${r.tenants} tenants × ${r.workspaces / r.tenants} workspaces (${r.liveObjects} live objects) → ${r.actions} actions`);
  console.log(`  plan       ${r.planMs} ms (median of ${RUNS}, fingerprints included; aim < 1000 ms)`);
  console.log(`  baseline   ${r.baselineMs} ms (structuredClone of the same inventory, same run)`);
  console.log(`  memory     ${r.rssBeforeMb} MB resident before planning, ${r.peakRssMb} MB peak for the process through planning (aim < 400 MB)`);
}
