/**
 * The one JSON form every renderer and the plan file use: a copy of the plan with a fixed field
 * order and only the fields the model declares, so output is stable whatever built the object
 * (the planner, or a file read back) and nothing extra rides along into a PR comment or file.
 */
import { createHash } from 'node:crypto';
import { ACCOUNTS } from '../accounts.js';
import type { Action, Attributes, GuardFinding, Plan, PlanBasis, PlanNotice, Step } from './model.js';
import { canonicalIntent, canonicalSettings } from './intent-shape.js';
import { ACTION_KINDS } from './model.js';
import { compareText } from './normalise.js';

export function canonicalPlan(plan: Plan): Plan {
  return {
    formatVersion: plan.formatVersion,
    environment: plan.environment,
    createdAt: plan.createdAt,
    settings: canonicalSettings(plan.settings ?? null),
    basis: canonicalBasis(plan.basis),
    summary: Object.fromEntries(ACTION_KINDS.map((k) => [k, plan.summary[k] ?? 0])) as Plan['summary'],
    guards: plan.guards.map(canonicalFinding),
    notices: (plan.notices ?? []).map(canonicalNotice),
    actions: plan.actions.map(canonicalAction),
    ...(plan.accounts ? { accounts: canonicalAccounts(plan.accounts) } : {}),
  };
}

function canonicalAccounts(accounts: NonNullable<Plan['accounts']>): NonNullable<Plan['accounts']> {
  const out: NonNullable<Plan['accounts']> = {};
  for (const name of ACCOUNTS) {
    const a = accounts[name];
    if (!a) continue;
    out[name] = {
      account: a.account,
      id: a.id,
      region: a.region,
      ...(a.roleArn !== undefined ? { roleArn: a.roleArn } : {}),
      observed: a.observed,
      ...(a.error !== undefined ? { error: a.error } : {}),
    };
  }
  return out;
}

/**
 * The saved plan file's form: the canonical plan with `digest` (sha256 of the canonical JSON
 * without the digest field) right after the format version. It tells a truncated or hand-edited
 * file from a plan; it is no signature — anyone can recompute it — so apply's guard re-checks,
 * not the digest, are what make an edited plan harmless.
 */
export function planDocument(plan: Plan): Record<string, unknown> {
  const { formatVersion, ...rest } = canonicalPlan(plan);
  return { formatVersion, digest: planDigest({ formatVersion, ...rest }), ...rest };
}

/** sha256 (hex) of the JSON text of a plan document without its digest field, keys in their order. */
export function planDigest(document: Record<string, unknown>): string {
  const { digest: _digest, ...rest } = document;
  return createHash('sha256').update(JSON.stringify(rest)).digest('hex');
}

function canonicalNotice(n: PlanNotice): PlanNotice {
  return { kind: n.kind, message: n.message, targets: [...n.targets] };
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
    replace: [...(b.replace ?? [])],
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
    intent: canonicalIntent(a.intent),
  };
  if (a.wave !== undefined) out.wave = a.wave;
  if (a.blockedBy !== undefined && a.blockedBy.length > 0) out.blockedBy = [...a.blockedBy];
  if (a.replacement) out.replacement = true;
  if (a.account !== undefined) out.account = a.account;
  if (a.move !== undefined) out.move = { from: a.move.from, to: a.move.to };
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
