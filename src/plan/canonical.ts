/**
 * The one JSON form every renderer and the plan file use: a copy of the plan with a fixed field
 * order and only the fields the model declares, so output is stable whatever built the object
 * (the planner, or a file read back) and nothing extra rides along into a PR comment or file.
 */
import type { Action, Attributes, GuardFinding, Plan, PlanBasis, Step } from './model.js';
import { ACTION_KINDS } from './model.js';
import { compareText } from './normalise.js';

export function canonicalPlan(plan: Plan): Plan {
  return {
    formatVersion: plan.formatVersion,
    environment: plan.environment,
    createdAt: plan.createdAt,
    basis: canonicalBasis(plan.basis),
    summary: Object.fromEntries(ACTION_KINDS.map((k) => [k, plan.summary[k] ?? 0])) as Plan['summary'],
    guards: plan.guards.map(canonicalFinding),
    actions: plan.actions.map(canonicalAction),
  };
}

function canonicalBasis(b: PlanBasis): PlanBasis {
  const fingerprints: Record<string, string> = {};
  for (const k of Object.keys(b.fingerprints).sort(compareText)) fingerprints[k] = b.fingerprints[k]!;
  return {
    commit: b.commit ?? undefined,
    desiredHash: b.desiredHash,
    changedSince: b.changedSince ?? undefined,
    scope: b.scope.kind === 'all' ? { kind: 'all' } : { kind: 'tenants', orgIds: [...b.scope.orgIds], slugs: [...b.scope.slugs] },
    fingerprints,
  };
}

function canonicalFinding(g: GuardFinding): GuardFinding {
  return { guard: g.guard, blocking: g.blocking, message: g.message, actionIds: [...g.actionIds] };
}

function canonicalAction(a: Action): Action {
  const out: Action = {
    id: a.id,
    kind: a.kind,
    target: {
      kind: a.target.kind,
      orgId: a.target.orgId,
      slug: a.target.slug,
      ...(a.target.workspaceId !== undefined ? { workspaceId: a.target.workspaceId } : {}),
      ...(a.target.workspaceName !== undefined ? { workspaceName: a.target.workspaceName } : {}),
    },
    steps: a.steps.map(canonicalStep),
    before: a.before && canonicalAttributes(a.before),
    after: a.after && canonicalAttributes(a.after),
    reason: a.reason,
  };
  if (a.wave !== undefined) out.wave = a.wave;
  if (a.blockedBy !== undefined && a.blockedBy.length > 0) out.blockedBy = [...a.blockedBy];
  if (a.replacement) out.replacement = true;
  return out;
}

function canonicalStep(s: Step): Step {
  return {
    resource: s.resource,
    op: s.op,
    ...(s.id !== undefined ? { id: s.id } : {}),
    ...(s.workspaceId !== undefined ? { workspaceId: s.workspaceId } : {}),
  };
}

function canonicalAttributes(a: Attributes): Attributes {
  return { ...a };
}
