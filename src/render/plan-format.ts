/**
 * Wording shared by the plan renderers: one symbol, verb and label per action, so the terminal
 * and the pull request comment say the same thing. Everything that came from the cloud or the
 * fleet repository (slugs, ids, names, reasons) passes through `sanitize` first: a tag value
 * must not be able to move a terminal cursor or smuggle markup into a comment.
 */
import { accountLabel, accountOf } from '../accounts.js';
import type { Action, ActionKind, ActionTarget, Attributes, Plan, Step } from '../plan/model.js';
import { ACTION_KINDS } from '../plan/model.js';
import { kindLabel, type StepResource } from '../kinds.js';

export type Symbol = '+' | '-' | '~' | '±';

export function actionSymbol(a: Action): Symbol {
  if (a.replacement) return '±';
  if (a.kind === 'create') return '+';
  if (a.kind === 'delete') return '-';
  return '~';
}

/**
 * The delete half of a replacement reads "replace (delete)", its create half "replace (create)";
 * a move between accounts "move main → canary (create)" and "move main → canary (delete)".
 */
export function actionVerb(a: Action): string {
  if (a.move) return `move ${a.move.from} → ${a.move.to} (${a.kind})`;
  return a.replacement ? `replace (${a.kind})` : a.kind;
}

/** ` [canary 111111111111/us-east-2]`: which account an action is in, when a canary account is configured. */
export function accountTag(plan: Pick<Plan, 'accounts'>, a: Pick<Action, 'account'>): string {
  if (!plan.accounts) return '';
  const account = accountOf(a);
  return ` ${accountLabel(plan.accounts[account], account)}`;
}

export function targetLabel(t: ActionTarget): string {
  if (t.kind === 'tenant') return `tenant ${sanitize(t.slug)} (org ${sanitize(t.orgId)})`;
  const ws = t.workspaceName !== undefined ? `${sanitize(t.workspaceName)} [${sanitize(t.workspaceId ?? '')}]` : sanitize(t.workspaceId ?? '');
  return `workspace ${ws} of ${sanitize(t.slug)} (org ${sanitize(t.orgId)})`;
}

export function stepLabel(s: Step): string {
  const on = s.id !== undefined ? ` ${sanitize(s.id)}` : '';
  const ws = s.workspaceId !== undefined ? ` (workspace ${sanitize(s.workspaceId)})` : '';
  return `${s.resource} ${s.op}${on}${ws}`;
}

/** `key: before → after` for every attribute that differs; a create or delete lists its one side. */
export function attributeChanges(a: Action): string[] {
  const before: Attributes = a.before ?? {};
  const after: Attributes = a.after ?? {};
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  const out: string[] = [];
  for (const k of keys) {
    const b = k in before ? show(before[k]) : undefined;
    const n = k in after ? show(after[k]) : undefined;
    if (a.before === null) out.push(`${sanitize(k)}: ${n}`);
    else if (a.after === null) out.push(`${sanitize(k)}: ${b}`);
    else if (b !== n) out.push(`${sanitize(k)}: ${b ?? '(none)'} → ${n ?? '(none)'}`);
  }
  return out;
}

function show(v: Attributes[string] | undefined): string {
  if (v === null || v === undefined) return '(none)';
  return sanitize(String(v));
}

/** Control characters (C0, DEL, C1, bidi overrides) become U+FFFD; nothing else changes. */
export function sanitize(text: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, '\ufffd');
}

/** "2 to create, 1 to delete" — kinds in their canonical order, zero counts left out. */
export function summaryLine(plan: Plan): string {
  const parts = ACTION_KINDS.filter((k) => (plan.summary[k] ?? 0) > 0).map((k) => `${plan.summary[k]} to ${k}`);
  return parts.length === 0 ? 'no changes' : parts.join(', ');
}

export function nonZeroKinds(plan: Plan): ActionKind[] {
  return ACTION_KINDS.filter((k) => (plan.summary[k] ?? 0) > 0);
}

/** What a plan's exit code will be, in words (design.md: 0 / 2 / 3). */
export function outcomeLine(plan: Plan): string {
  if (plan.guards.some((g) => g.blocking)) return 'Refused by a guard: apply would not run this plan as it stands (exit 3).';
  const unobserved = Object.values(plan.accounts ?? {}).filter((a) => !a.observed);
  if (unobserved.length > 0) return `The ${unobserved.map((a) => a.account).join(' and ')} account could not be observed: its tenants are not planned (exit 1).`;
  if (plan.actions.length > 0) return 'Changes planned (exit 2).';
  return 'Nothing to do (exit 0).';
}

/** A delete's cascade in words: "2 instances, 3 security groups, 1 secret…" from its steps, labelled by the kind registry. */
export function cascadeSummary(a: Action): string {
  const counts = new Map<StepResource, number>();
  for (const s of a.steps) counts.set(s.resource, (counts.get(s.resource) ?? 0) + 1);
  return [...counts.entries()].map(([r, n]) => `${n} ${kindLabel(r, n)}`).join(', ');
}
