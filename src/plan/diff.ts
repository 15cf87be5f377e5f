/**
 * The planner's public names, where the rest of tenantform imports them from. The planner itself
 * is the modules beside this one (build.ts orchestrates and lists them, each with its rules).
 */
export { planChanges, type PlanOptions } from './build.js';
export { replaceName, targetKey, unknownReplaceTargets } from './context.js';
export { planExitCode } from './exit-code.js';
export { describeTarget } from './guards.js';
export { scopeLabel } from './scope.js';
