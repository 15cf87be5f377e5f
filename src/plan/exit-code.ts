/** The plan command's exit code, from the plan alone (design.md). */
import type { Plan } from './model.js';

/**
 * 0 nothing to do, 2 changes planned, 3 a guard would refuse (design.md exit codes); 1 when an
 * AWS account could not be observed (a refused canary role): its tenants were not planned.
 */
export function planExitCode(plan: Plan): 0 | 1 | 2 | 3 {
  if (plan.guards.some((g) => g.blocking)) return 3;
  if (Object.values(plan.accounts ?? {}).some((a) => !a.observed)) return 1;
  return plan.actions.length > 0 ? 2 : 0;
}
