/**
 * The quota step plan and apply share: ask the planner what the plan adds, read those quotas
 * and counts (src/live/quotas.ts, paced and cached by the readers), and put the quota guard's
 * findings and notices on the plan (src/plan/quotas.ts). A plan that adds nothing reads nothing.
 */
import type { GuardVerdict } from '../apply/preflight.js';
import { DEFAULT_QUOTAS } from '../desired/defaults.js';
import type { FleetSpec } from '../desired/model.js';
import type { Inventory } from '../live/model.js';
import { observeQuotas } from '../live/quotas.js';
import type { LiveReaders } from '../live/readers.js';
import type { Plan } from '../plan/model.js';
import { evaluateQuotas, QUOTA_GUARDS, quotaNeeds, withQuotaResult } from '../plan/quotas.js';

export async function checkQuotas(plan: Plan, readers: LiveReaders, inventory: Inventory, limits: FleetSpec['quotas']): Promise<Plan> {
  const needs = quotaNeeds(plan.actions, inventory);
  if (!readers.quotas || (!needs.tunnels && !needs.dnsRecords && !needs.instanceTypes)) return withQuotaResult(plan, { findings: [], notices: [], blocks: new Map() });
  const observation = await observeQuotas(readers.ec2, readers.quotas, needs);
  return withQuotaResult(plan, evaluateQuotas(plan.actions, { inventory, observation, limits }));
}

/** A plan file from before the quota guard carries no limits: Cloudflare's published defaults. */
export const DEFAULT_QUOTA_LIMITS: FleetSpec['quotas'] = { ...DEFAULT_QUOTAS, vcpus: undefined };

/** Apply's re-check: the quota guard from a fresh read, added to the preflight's verdict (which dropped the plan's own). */
export async function recheckQuotas(verdict: GuardVerdict, inputs: { readers: LiveReaders; inventory: Inventory; limits: FleetSpec['quotas'] }): Promise<GuardVerdict> {
  const plan = await checkQuotas(verdict.plan, inputs.readers, inputs.inventory, inputs.limits);
  const quota = plan.guards.filter((g) => QUOTA_GUARDS.has(g.guard));
  return { plan, findings: [...verdict.findings, ...quota], refusals: [...verdict.refusals, ...quota.filter((g) => g.blocking)] };
}
