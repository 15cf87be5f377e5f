/**
 * The quota step plan and apply share: ask the planner what the plan adds, read those quotas
 * and counts (src/live/quotas.ts, paced and cached by the readers), and put the quota guard's
 * findings and notices on the plan (src/plan/quotas.ts). A plan that adds nothing reads nothing.
 */
import { accountOf } from '../accounts.js';
import type { GuardVerdict } from '../apply/preflight.js';
import { DEFAULT_QUOTAS } from '../desired/defaults.js';
import type { FleetSpec } from '../desired/model.js';
import type { Inventory } from '../live/model.js';
import { observeQuotas } from '../live/quotas.js';
import type { LiveReaders } from '../live/readers.js';
import type { Action, Plan, Step } from '../plan/model.js';
import { evaluateQuotas, QUOTA_GUARDS, quotaNeeds, withQuotaResult, type QuotaResult } from '../plan/quotas.js';

export async function checkQuotas(plan: Plan, readers: LiveReaders, inventory: Inventory, limits: FleetSpec['quotas'], canary?: LiveReaders): Promise<Plan> {
  if (!canary) return withQuotaResult(plan, await evaluateIn(plan.actions, readers, inventory, limits));
  // Cloudflare's counts are one account and zone; the vCPU quota is per AWS account: the canary's
  // launches count against the canary account's quota, read with its clients, and only there.
  const inCanary = (a: Action) => accountOf(a.intent) === 'canary';
  const strip = (a: Action, keep: (s: Step) => boolean): Action => ({ ...a, steps: a.steps.filter(keep) });
  const isInstance = (s: Step) => s.resource === 'instance';
  const main = await evaluateIn(
    plan.actions.map((a) => (inCanary(a) ? strip(a, (s) => !isInstance(s)) : a)),
    readers,
    inventory,
    limits,
  );
  const canaryActions = plan.actions.filter(inCanary).map((a) => strip(a, isInstance));
  const there = canaryActions.length > 0 ? await evaluateIn(canaryActions, canary, inventory, limits) : { findings: [], notices: [], blocks: new Map() };
  const label = (m: string) => `canary account: ${m}`;
  return withQuotaResult(plan, {
    findings: [...main.findings, ...there.findings.map((f) => ({ ...f, message: label(f.message) }))],
    notices: [...main.notices, ...there.notices.map((n) => ({ ...n, message: label(n.message) }))],
    blocks: new Map([...main.blocks, ...there.blocks]),
  });
}

async function evaluateIn(actions: readonly Action[], readers: LiveReaders, inventory: Inventory, limits: FleetSpec['quotas']): Promise<QuotaResult> {
  const needs = quotaNeeds(actions, inventory);
  if (!readers.quotas || (!needs.tunnels && !needs.dnsRecords && !needs.instanceTypes)) return { findings: [], notices: [], blocks: new Map() };
  const observation = await observeQuotas(readers.ec2, readers.quotas, needs);
  return evaluateQuotas(actions, { inventory, observation, limits });
}

/** A plan file from before the quota guard carries no limits: Cloudflare's published defaults. */
export const DEFAULT_QUOTA_LIMITS: FleetSpec['quotas'] = { ...DEFAULT_QUOTAS, vcpus: undefined };

/** Apply's re-check: the quota guard from a fresh read, added to the preflight's verdict (which dropped the plan's own). */
export async function recheckQuotas(
  verdict: GuardVerdict,
  inputs: { readers: LiveReaders; inventory: Inventory; limits: FleetSpec['quotas']; canary?: LiveReaders | undefined },
): Promise<GuardVerdict> {
  const plan = await checkQuotas(verdict.plan, inputs.readers, inputs.inventory, inputs.limits, inputs.canary);
  const quota = plan.guards.filter((g) => QUOTA_GUARDS.has(g.guard));
  return { plan, findings: [...verdict.findings, ...quota], refusals: [...verdict.refusals, ...quota.filter((g) => g.blocking)] };
}
