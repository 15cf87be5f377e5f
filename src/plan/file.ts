/**
 * The saved plan (`plan --out plan.json`): the canonical JSON form with a digest, written
 * atomically, read back with its format version, its digest and its shape checked field by
 * field. Nothing in a read plan is trusted beyond its shape: the summary is recomputed from the
 * actions, reason strings are only ever displayed (apply acts on kinds, targets, steps and
 * intents, and an intent must agree with its action's target and steps), and
 * apply re-derives every guard from the actions rather than reading the `guards` list.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { accountOf, ACCOUNTS } from '../accounts.js';
import { InputError, describeCause } from '../errors.js';
import { STEP_RESOURCES } from '../kinds.js';
import { planDigest, planDocument } from './canonical.js';
import { parseIntent, parseSettings } from './intent-shape.js';
import {
  ACTION_KINDS,
  GUARD_KINDS,
  PLAN_FORMAT_VERSION,
  type Action,
  type ActionKind,
  type Attributes,
  type GuardFinding,
  type Plan,
  type PlanBasis,
  type PlanNotice,
  type Step,
  type StepResource,
} from './model.js';
import { arr, obj, oneOf, optStr, ShapeError, str, strArr } from './shape.js';

export async function writePlanFile(path: string, plan: Plan): Promise<void> {
  const text = `${JSON.stringify(planDocument(plan), null, 2)}\n`;
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, text, { encoding: 'utf8', mode: 0o644 });
    await rename(tmp, path);
  } catch (cause) {
    throw new InputError(describeCause(cause), { operation: 'write plan file', resource: path, cause });
  }
}

export async function readPlanFile(path: string): Promise<Plan> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new InputError(describeCause(cause), { operation: 'read plan file', resource: path, cause });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (cause) {
    throw new InputError(`not JSON (${describeCause(cause)}); a truncated file? re-run plan`, { operation: 'read plan file', resource: path, cause });
  }
  checkVersion(data, path);
  checkDigest(data, path);
  return parsePlan(data, path);
}

function checkVersion(data: unknown, source: string): void {
  const version = typeof data === 'object' && data !== null ? (data as { formatVersion?: unknown }).formatVersion : undefined;
  if (typeof version === 'number' && Number.isInteger(version) && version > 0 && version < PLAN_FORMAT_VERSION) {
    throw new InputError(`made by an older tenantform (plan format ${version}, this one reads ${PLAN_FORMAT_VERSION}); re-plan with this version`, {
      operation: 'read plan file',
      resource: source,
    });
  }
}

/** A file whose digest does not match its content was truncated or edited: refused as such. */
function checkDigest(data: unknown, source: string): void {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return; // the shape check names it
  const doc = data as Record<string, unknown>;
  if (doc.formatVersion !== PLAN_FORMAT_VERSION) return; // the shape check names it
  if (typeof doc.digest !== 'string') {
    throw new InputError('has no digest, so it was not written by plan --out; re-run plan', { operation: 'read plan file', resource: source });
  }
  if (planDigest(doc) !== doc.digest) {
    throw new InputError('its digest does not match its content: the file was truncated or edited; re-run plan', { operation: 'read plan file', resource: source });
  }
}

/** Checks a parsed plan's version and shape; an InputError names `source` and the first bad field. */
export function parsePlan(data: unknown, source: string): Plan {
  try {
    return parseShape(data);
  } catch (cause) {
    if (cause instanceof ShapeError) throw new InputError(cause.detail, { operation: 'read plan file', resource: source });
    throw cause;
  }
}

function parseShape(data: unknown): Plan {
  const root = obj(data, '$');
  if (root.formatVersion !== PLAN_FORMAT_VERSION) {
    throw new ShapeError(`formatVersion ${JSON.stringify(root.formatVersion)} is not ${PLAN_FORMAT_VERSION}; re-run plan with this version of tenantform`);
  }
  const actions = arr(root.actions, '$.actions').map((a, i) => parseAction(a, `$.actions[${i}]`));
  const ids = new Set<string>();
  for (const a of actions) {
    if (ids.has(a.id)) throw new ShapeError(`$.actions: duplicate action id ${JSON.stringify(a.id)}`);
    ids.add(a.id);
  }
  const summary = Object.fromEntries(ACTION_KINDS.map((k) => [k, 0])) as Record<ActionKind, number>;
  for (const a of actions) summary[a.kind] += 1;
  return {
    formatVersion: PLAN_FORMAT_VERSION,
    environment: str(root.environment, '$.environment'),
    createdAt: str(root.createdAt, '$.createdAt'),
    settings: parseSettings(root.settings, '$.settings'),
    basis: parseBasis(root.basis, '$.basis'),
    actions,
    guards: arr(root.guards, '$.guards').map((g, i) => parseFinding(g, `$.guards[${i}]`, ids)),
    notices: arr(root.notices, '$.notices').map((n, i) => parseNotice(n, `$.notices[${i}]`)),
    summary,
    ...(root.accounts !== undefined ? { accounts: parseAccounts(root.accounts, '$.accounts') } : {}),
  };
}

function parseAccounts(v: unknown, at: string): NonNullable<Plan['accounts']> {
  const o = obj(v, at);
  const out: NonNullable<Plan['accounts']> = {};
  for (const name of Object.keys(o)) {
    const account = oneOf(name, ACCOUNTS, `${at} key`);
    const a = obj(o[name], `${at}.${name}`);
    if (typeof a.observed !== 'boolean') throw new ShapeError(`${at}.${name}.observed must be a boolean`);
    if (oneOf(a.account, ACCOUNTS, `${at}.${name}.account`) !== account) throw new ShapeError(`${at}.${name}.account must be ${account}`);
    const roleArn = optStr(a.roleArn, `${at}.${name}.roleArn`);
    const error = optStr(a.error, `${at}.${name}.error`);
    out[account] = {
      account,
      id: str(a.id, `${at}.${name}.id`),
      region: str(a.region, `${at}.${name}.region`),
      ...(roleArn !== undefined ? { roleArn } : {}),
      observed: a.observed,
      ...(error !== undefined ? { error } : {}),
    };
  }
  return out;
}

function parseBasis(v: unknown, at: string): PlanBasis {
  const b = obj(v, at);
  const scope = obj(b.scope, `${at}.scope`);
  let parsedScope: PlanBasis['scope'];
  if (scope.kind === 'all') parsedScope = { kind: 'all' };
  else if (scope.kind === 'tenants') {
    parsedScope = { kind: 'tenants', orgIds: strArr(scope.orgIds, `${at}.scope.orgIds`), slugs: strArr(scope.slugs, `${at}.scope.slugs`) };
  } else throw new ShapeError(`${at}.scope.kind must be "all" or "tenants"`);
  const fp = obj(b.fingerprints, `${at}.fingerprints`);
  const fingerprints: Record<string, string> = {};
  for (const [k, val] of Object.entries(fp)) fingerprints[k] = str(val, `${at}.fingerprints[${JSON.stringify(k)}]`);
  return {
    commit: optStr(b.commit, `${at}.commit`),
    desiredHash: str(b.desiredHash, `${at}.desiredHash`),
    changedSince: optStr(b.changedSince, `${at}.changedSince`),
    scope: parsedScope,
    fingerprints,
    replace: strArr(b.replace, `${at}.replace`),
  };
}

function parseNotice(v: unknown, at: string): PlanNotice {
  const n = obj(v, at);
  return {
    kind: oneOf(n.kind, ['olderAmi', 'quotaNear', 'quotaUnknown'] as const, `${at}.kind`),
    message: str(n.message, `${at}.message`),
    targets: strArr(n.targets, `${at}.targets`),
  };
}

const RESOURCES: readonly StepResource[] = STEP_RESOURCES;
const OPS: readonly Step['op'][] = ['create', 'delete', 'restore', 'modify', 'stop', 'start', 'run'];
const GUARDS = GUARD_KINDS;

function parseAction(v: unknown, at: string): Action {
  const a = obj(v, at);
  const kind = oneOf(a.kind, ACTION_KINDS, `${at}.kind`);
  const t = obj(a.target, `${at}.target`);
  const targetKind = oneOf(t.kind, ['tenant', 'workspace'] as const, `${at}.target.kind`);
  const target: Action['target'] = { kind: targetKind, orgId: str(t.orgId, `${at}.target.orgId`), slug: str(t.slug, `${at}.target.slug`) };
  const workspaceId = optStr(t.workspaceId, `${at}.target.workspaceId`);
  const workspaceName = optStr(t.workspaceName, `${at}.target.workspaceName`);
  if (targetKind === 'workspace' && workspaceId === undefined) throw new ShapeError(`${at}.target.workspaceId is required for a workspace`);
  if (workspaceId !== undefined) target.workspaceId = workspaceId;
  if (workspaceName !== undefined) target.workspaceName = workspaceName;
  // The id is derived, never free text: apply and guards key on it.
  const expectedId = `${kind}:${targetKind}:${target.orgId}${targetKind === 'workspace' ? `:${workspaceId}` : ''}`;
  const id = str(a.id, `${at}.id`);
  if (id !== expectedId) throw new ShapeError(`${at}.id ${JSON.stringify(id)} does not match its kind and target (${JSON.stringify(expectedId)})`);
  const steps = arr(a.steps, `${at}.steps`).map((s, i): Step => {
    const st = obj(s, `${at}.steps[${i}]`);
    const step: Step = { resource: oneOf(st.resource, RESOURCES, `${at}.steps[${i}].resource`), op: oneOf(st.op, OPS, `${at}.steps[${i}].op`) };
    const sid = optStr(st.id, `${at}.steps[${i}].id`);
    const swid = optStr(st.workspaceId, `${at}.steps[${i}].workspaceId`);
    if (sid !== undefined) step.id = sid;
    if (swid !== undefined) step.workspaceId = swid;
    return step;
  });
  const draft: Omit<Action, 'intent'> = {
    id,
    kind,
    target,
    steps,
    before: attrs(a.before, `${at}.before`),
    after: attrs(a.after, `${at}.after`),
    reason: str(a.reason, `${at}.reason`),
  };
  if (a.replacement !== undefined) {
    if (typeof a.replacement !== 'boolean') throw new ShapeError(`${at}.replacement must be a boolean`);
    if (a.replacement) draft.replacement = true;
  }
  if (a.account !== undefined) draft.account = oneOf(a.account, ACCOUNTS, `${at}.account`);
  if (a.move !== undefined) {
    const m = obj(a.move, `${at}.move`);
    const move = { from: oneOf(m.from, ACCOUNTS, `${at}.move.from`), to: oneOf(m.to, ACCOUNTS, `${at}.move.to`) };
    if (move.from === move.to) throw new ShapeError(`${at}.move must name two accounts`);
    // The create acts in the new account, the delete in the old one.
    if (accountOf(draft) !== (kind === 'delete' ? move.from : move.to)) throw new ShapeError(`${at}.account does not match its move`);
    draft.move = move;
  }
  const out: Action = { ...draft, intent: parseIntent(a.intent, draft, `${at}.intent`) };
  if (a.wave !== undefined) {
    if (typeof a.wave !== 'number' || !Number.isInteger(a.wave) || a.wave < 0) throw new ShapeError(`${at}.wave must be a non-negative integer`);
    out.wave = a.wave;
  }
  if (a.blockedBy !== undefined) out.blockedBy = arr(a.blockedBy, `${at}.blockedBy`).map((g, i) => oneOf(g, GUARDS, `${at}.blockedBy[${i}]`));
  return out;
}

function parseFinding(v: unknown, at: string, actionIds: Set<string>): GuardFinding {
  const g = obj(v, at);
  if (typeof g.blocking !== 'boolean') throw new ShapeError(`${at}.blocking must be a boolean`);
  const ids = strArr(g.actionIds, `${at}.actionIds`);
  for (const id of ids) if (!actionIds.has(id)) throw new ShapeError(`${at}.actionIds names ${JSON.stringify(id)}, which is not an action of this plan`);
  return { guard: oneOf(g.guard, GUARDS, `${at}.guard`), blocking: g.blocking, message: str(g.message, `${at}.message`), actionIds: ids };
}

function attrs(v: unknown, at: string): Attributes | null {
  if (v === null) return null;
  const o = obj(v, at);
  const out: Attributes = {};
  for (const [k, val] of Object.entries(o)) {
    if (val !== null && typeof val !== 'string' && typeof val !== 'number' && typeof val !== 'boolean') {
      throw new ShapeError(`${at}.${k} must be a string, number, boolean or null`);
    }
    out[k] = val;
  }
  return out;
}
