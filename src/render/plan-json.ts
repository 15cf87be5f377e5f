/**
 * `--json`: the plan's one canonical JSON form (fixed field order, model fields only), the same
 * bytes `--out plan.json` saves. Pretty for people, compact for pipes.
 */
import { canonicalPlan } from '../plan/canonical.js';
import type { Plan } from '../plan/model.js';

export interface JsonOptions {
  pretty: boolean;
}

export function renderPlanJson(plan: Plan, opts: JsonOptions = { pretty: true }): string {
  return `${JSON.stringify(canonicalPlan(plan), null, opts.pretty ? 2 : undefined)}\n`;
}
