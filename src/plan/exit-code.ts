/** The plan command's exit code, from the plan alone (design.md). */
import type { Plan } from './model.js';

/** 0 nothing to do, 2 changes planned, 3 a guard would refuse (design.md exit codes). */
export function planExitCode(plan: Plan): 0 | 2 | 3 {
  if (plan.guards.some((g) => g.blocking)) return 3;
  return plan.actions.length > 0 ? 2 : 0;
}
