/**
 * The human plan for a terminal: one line per action with + ~ - ± and its target, then its
 * reason, attribute changes and steps. Colour only when the caller says so (a TTY without
 * NO_COLOR — see Io.color); the text is identical apart from the escape codes.
 */
import { scopeLabel } from '../plan/diff.js';
import type { Action, Plan } from '../plan/model.js';
import { accountTag, actionSymbol, actionVerb, attributeChanges, outcomeLine, sanitize, stepLabel, summaryLine, targetLabel, type Symbol } from './plan-format.js';

export interface TextOptions {
  color: boolean;
}

const ANSI = { reset: '\u001b[0m', bold: '\u001b[1m', dim: '\u001b[2m', red: '\u001b[31m', green: '\u001b[32m', yellow: '\u001b[33m', magenta: '\u001b[35m' } as const;
const SYMBOL_COLOR: Record<Symbol, keyof typeof ANSI> = { '+': 'green', '-': 'red', '~': 'yellow', '±': 'magenta' };

export function renderPlanText(plan: Plan, opts: TextOptions): string {
  const paint = (style: keyof typeof ANSI, text: string): string => (opts.color ? `${ANSI[style]}${text}${ANSI.reset}` : text);
  const lines: string[] = [];
  const commit = plan.basis.commit ? ` · commit ${sanitize(plan.basis.commit.slice(0, 12))}` : '';
  const scope = plan.basis.scope.kind === 'tenants' ? ` · scoped to ${sanitize(scopeLabel(plan.basis.scope))}` : '';
  lines.push(paint('bold', `tenantform plan · environment ${sanitize(plan.environment)}${commit}${scope}`), '');

  if (plan.actions.length === 0) lines.push('  No changes: the live fleet matches the fleet repository.');
  const width = Math.max(0, ...plan.actions.map((a) => actionVerb(a).length));
  for (const a of plan.actions) lines.push(...actionLines(a, width, paint, accountTag(plan, a)));

  if (plan.guards.length > 0) {
    lines.push('', paint('bold', 'Guards:'));
    for (const g of plan.guards) {
      const mark = g.blocking ? paint('red', '✖ refused') : paint('yellow', '! warning');
      lines.push(`  ${mark} ${g.guard}: ${sanitize(g.message)}`);
    }
  }
  if ((plan.notices ?? []).length > 0) {
    lines.push('', paint('bold', 'Notices:'));
    for (const n of plan.notices) lines.push(`  ${paint('yellow', 'i')} ${sanitize(n.message)}`);
  }
  lines.push('', `${paint('bold', 'Plan:')} ${summaryLine(plan)}. ${outcomeLine(plan)}`);
  return `${lines.join('\n')}\n`;
}

function actionLines(a: Action, width: number, paint: (style: keyof typeof ANSI, text: string) => string, account = ''): string[] {
  const symbol = actionSymbol(a);
  const wave = a.wave !== undefined ? paint('dim', ` (wave ${a.wave})`) : '';
  const blocked = a.blockedBy && a.blockedBy.length > 0 ? ` ${paint('red', `[blocked: ${a.blockedBy.join(', ')}]`)}` : '';
  const out = [`  ${paint(SYMBOL_COLOR[symbol], `${symbol} ${actionVerb(a).padEnd(width)}`)} ${targetLabel(a.target)}${account}${wave}${blocked}`];
  out.push(`      ${paint('dim', sanitize(a.reason))}`);
  const changes = attributeChanges(a);
  // A create or delete has one side only: one line of attributes, not a column.
  if (a.before === null || a.after === null) {
    if (changes.length > 0) out.push(`      ${changes.join(', ')}`);
  } else for (const change of changes) out.push(`      ${change}`);
  if (a.steps.length > 0) {
    const label = a.kind === 'delete' && !a.replacement ? 'cascade' : 'steps';
    out.push(`      ${label}: ${a.steps.map(stepLabel).join(' → ')}`);
  }
  return out;
}
