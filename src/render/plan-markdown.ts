/**
 * `--markdown`: the plan as a pull request comment. Order: the summary table, then every
 * delete in a CAUTION block (impossible to miss), then guard findings, then each action's
 * details folded in <details>. GitHub refuses comments over 65,536 characters, so the comment
 * is built against a budget: deletes are cut last, details first, and a note says what was cut
 * and how to see it all. All fleet- and cloud-sourced text is escaped (Markdown, HTML, mentions).
 */
import { scopeLabel } from '../plan/diff.js';
import type { Action, Plan } from '../plan/model.js';
import { cascadeDiagram, rolloutDiagram, rolloutWaves, waveName } from './plan-mermaid.js';
import { accountTag, actionSymbol, actionVerb, attributeChanges, cascadeSummary, nonZeroKinds, outcomeLine, sanitize, stepLabel, targetLabel } from './plan-format.js';

/** GitHub's limit on an issue or pull request comment body. */
export const GITHUB_COMMENT_LIMIT = 65_536;

export interface MarkdownOptions {
  /** Upper bound on the comment's length; defaults to GitHub's limit less room for a bot's own header or marker. */
  maxLength?: number;
}

const DEFAULT_MAX_LENGTH = GITHUB_COMMENT_LIMIT - 1_536;
/** Room kept for the closing lines and cut notes, which are always written. */
const RESERVE = 1_500;
const MAX_FINDING_LENGTH = 400;
/** Findings listed per callout; the rest are counted. Bounds the guard section to ~20 KB. */
const MAX_FINDINGS = 40;
/** Room the deletes list leaves for at least a few action details. */
const MIN_DETAILS = 2_000;
/** Tenant deletes drawn as cascade pictures at most; more are only listed. */
export const MAX_CASCADE_PICTURES = 3;

export function renderPlanMarkdown(plan: Plan, opts: MarkdownOptions = {}): string {
  const max = Math.min(opts.maxLength ?? DEFAULT_MAX_LENGTH, GITHUB_COMMENT_LIMIT - 1);
  const out = new Budget(max - RESERVE);
  const deletes = plan.actions.filter((a) => a.kind === 'delete');

  const commit = plan.basis.commit ? ` at ${md(plan.basis.commit.slice(0, 12))}` : '';
  out.force(`### tenantform plan: ${md(plan.environment)}${commit}`, '');
  const headline = plan.actions.length === 0 ? '**No changes.**' : `**${plan.actions.length} change${plan.actions.length === 1 ? '' : 's'}**`;
  const deleteWarning = deletes.length > 0 ? ` · **${deletes.length} delete${deletes.length === 1 ? '' : 's'}**` : '';
  out.force(`${headline}${deleteWarning} · ${outcomeLine(plan)}`, '');
  if (plan.basis.scope.kind === 'tenants') {
    out.force(`Scoped to ${md(scopeLabel(plan.basis.scope))}; tenants outside the scope were not compared.`, '');
  }

  const kinds = nonZeroKinds(plan);
  if (kinds.length > 0) {
    out.force('| Action | Count |', '|:--|--:|');
    for (const k of kinds) out.force(`| ${k === 'delete' ? '**delete**' : k} | ${k === 'delete' ? `**${plan.summary[k]}**` : plan.summary[k]} |`);
    out.force('');
  }

  const notes: string[] = [];
  // Guard findings are few and short but decide the outcome: they are sized first, so a flood
  // of deletes can never push them out; deletes come next; details get what is left.
  const guardLines = guardSection(plan, notes);
  const guardsLength = guardLines.reduce((n, l) => n + l.length + 1, 0);
  rolloutSection(plan, out, guardsLength + MIN_DETAILS, notes);
  if (deletes.length > 0) {
    out.force('> [!CAUTION]', `> **${deletes.length} delete${deletes.length === 1 ? '' : 's'}**: live resources will be removed.`, '>');
    let shown = 0;
    for (const a of deletes) {
      if (!out.add(`> - ${deleteLine(a, accountTag(plan, a))}`, guardsLength + MIN_DETAILS)) break;
      shown += 1;
    }
    if (shown < deletes.length) {
      out.force(`> - **…and ${deletes.length - shown} more deletes not listed (comment size limit); run \`tenantform plan\` for the full list.**`);
      notes.push(`${deletes.length - shown} of ${deletes.length} deletes not listed`);
    }
    out.force('');
    cascadeSection(deletes, out, guardsLength + MIN_DETAILS);
  }
  out.force(...guardLines);
  for (const n of plan.notices ?? []) out.force('> [!NOTE]', `> ${md(truncate(n.message, MAX_FINDING_LENGTH))}`, '');

  if (plan.actions.length > 0) {
    out.force(`<details><summary>Details of ${plan.actions.length} action${plan.actions.length === 1 ? '' : 's'}</summary>`, '');
    let shown = 0;
    for (const a of plan.actions) {
      if (!out.add(detailBlock(a, accountTag(plan, a)))) break;
      shown += 1;
    }
    out.force('</details>', '');
    if (shown < plan.actions.length) notes.push(`details of ${plan.actions.length - shown} of ${plan.actions.length} actions`);
  }
  if (notes.length > 0) {
    out.force(
      `_Cut to stay under GitHub's ${GITHUB_COMMENT_LIMIT.toLocaleString('en-US')}-character comment limit: ${notes.join('; ')}. Run \`tenantform plan\` or \`tenantform plan --json\` for the whole plan._`,
    );
  }
  return out.text();
}

/** The rollout's waves as a picture, or as a list when there are too many to draw or the picture does not fit. */
function rolloutSection(plan: Plan, out: Budget, keepFree: number, notes: string[]): void {
  const waves = rolloutWaves(plan);
  if (waves.length === 0) return;
  const tenants = waves.reduce((n, w) => n + w.tenants, 0);
  out.force(
    `**Rollout**: ${tenants} tenant${tenants === 1 ? '' : 's'} in ${waves.length} wave${waves.length === 1 ? '' : 's'}, each one after the last has finished.`,
    '',
  );
  const picture = rolloutDiagram(waves);
  if (picture !== undefined && out.add(picture, keepFree)) {
    out.force('');
    return;
  }
  let shown = 0;
  for (const w of waves) {
    if (!out.add(`- ${waveName(w.wave)}: ${w.tenants} tenant${w.tenants === 1 ? '' : 's'}, ${w.actions} redeploy${w.actions === 1 ? '' : 's'}`, keepFree)) break;
    shown += 1;
  }
  if (shown < waves.length) notes.push(`${waves.length - shown} of ${waves.length} rollout waves not listed`);
  out.force('');
}

/** Tenant deletes drawn as their cascades, up to a few; beyond that the deletes list above is the picture. */
function cascadeSection(deletes: readonly Action[], out: Budget, keepFree: number): void {
  const tenantDeletes = deletes.filter((a) => a.target.kind === 'tenant' && !a.replacement);
  if (tenantDeletes.length === 0) return;
  if (tenantDeletes.length > MAX_CASCADE_PICTURES) {
    out.force(`_The cascades of ${tenantDeletes.length} tenant deletes are listed above, not drawn (more than ${MAX_CASCADE_PICTURES})._`, '');
    return;
  }
  for (const a of tenantDeletes) {
    const picture = cascadeDiagram(a);
    if (picture === undefined || !out.add(`${picture}\n`, keepFree)) continue;
  }
}

/** Guard findings as callouts: blocking ones under WARNING, the rest under NOTE. */
function guardSection(plan: Plan, notes: string[]): string[] {
  const lines: string[] = [];
  const groups = [
    [plan.guards.filter((g) => g.blocking), '> [!WARNING]', 'Refused by guards'],
    [plan.guards.filter((g) => !g.blocking), '> [!NOTE]', 'Warnings'],
  ] as const;
  for (const [group, callout, title] of groups) {
    if (group.length === 0) continue;
    lines.push(callout, `> **${title}**`, '>');
    for (const g of group.slice(0, MAX_FINDINGS)) lines.push(`> - **${g.guard}**: ${md(truncate(g.message, MAX_FINDING_LENGTH))}`);
    if (group.length > MAX_FINDINGS) {
      lines.push(`> - **…and ${group.length - MAX_FINDINGS} more** (comment size limit)`);
      notes.push(`${group.length - MAX_FINDINGS} of ${group.length} ${title.toLowerCase()} not listed`);
    }
    lines.push('');
  }
  return lines;
}

function deleteLine(a: Action, account = ''): string {
  const blocked = a.blockedBy && a.blockedBy.length > 0 ? ` — ⛔ blocked by ${a.blockedBy.join(', ')}` : '';
  if (a.replacement) return `**${md(targetLabel(a.target))}**${md(account)}: instance replaced — ${md(a.reason)}${blocked}`;
  if (a.move) return `**${md(targetLabel(a.target))}**${md(account)}: ${md(actionVerb(a))} — ${md(cascadeSummary(a))}${blocked}`;
  return `**${md(targetLabel(a.target))}**${md(account)}: ${md(cascadeSummary(a))}${blocked}`;
}

function detailBlock(a: Action, account = ''): string {
  const wave = a.wave !== undefined ? ` (wave ${a.wave})` : '';
  const blocked = a.blockedBy && a.blockedBy.length > 0 ? ` ⛔ blocked by ${a.blockedBy.join(', ')}` : '';
  const lines = [`- \`${actionSymbol(a)}\` **${actionVerb(a)}** ${md(targetLabel(a.target))}${md(account)}${wave}${blocked}`, `  - ${md(a.reason)}`];
  const changes = attributeChanges(a);
  if (a.before === null || a.after === null) {
    if (changes.length > 0) lines.push(`  - ${md(changes.join(', '))}`);
  } else for (const c of changes) lines.push(`  - ${md(c)}`);
  if (a.steps.length > 0) lines.push(`  - ${a.kind === 'delete' && !a.replacement ? 'cascade' : 'steps'}: ${md(a.steps.map(stepLabel).join(' → '))}`);
  return lines.join('\n');
}

/**
 * Markdown- and HTML-inert text: entities for & < >, backslashes before inline markup, a
 * zero-width space after @ so a slug never mentions anyone, and everything on one line.
 */
export function md(text: string): string {
  return sanitize(text.replace(/[\r\n]+/g, ' '))
    .replace(/\ufffd/g, '?')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([\\`*_[\]|~#!])/g, '\\$1')
    .replace(/@/g, '@\u200b');
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Lines appended while they fit; `force` lines always go in (their room is the reserve). */
class Budget {
  private readonly lines: string[] = [];
  private length = 0;

  constructor(private readonly limit: number) {}

  force(...lines: string[]): void {
    for (const l of lines) this.push(l);
  }

  /** Appends the line if it fits with `keepFree` characters still to spare. */
  add(line: string, keepFree = 0): boolean {
    if (this.length + line.length + 1 + keepFree > this.limit) return false;
    this.push(line);
    return true;
  }

  text(): string {
    return `${this.lines.join('\n')}\n`;
  }

  private push(line: string): void {
    this.lines.push(line);
    this.length += line.length + 1;
  }
}
