/**
 * The change set for a terminal: one line per action (✓ ok, ✗ failed, - skipped) with its target,
 * the resources it touched, the redacted error or why it was skipped; then the rollout waves and
 * the totals. Colour only when the caller says so; the text is otherwise identical.
 */
import type { ActionResult, ChangeSet, ResourceChange } from '../changeset/model.js';
import { changeSetExitCode } from '../changeset/model.js';
import { sanitize, targetLabel } from './plan-format.js';

const ANSI = { reset: '\u001b[0m', bold: '\u001b[1m', dim: '\u001b[2m', red: '\u001b[31m', green: '\u001b[32m', yellow: '\u001b[33m' } as const;
type Style = keyof typeof ANSI;

export function renderChangeSetText(cs: ChangeSet, opts: { color: boolean }): string {
  const paint = (style: Style, text: string): string => (opts.color ? `${ANSI[style]}${text}${ANSI.reset}` : text);
  const lines: string[] = [paint('bold', `tenantform apply · environment ${sanitize(cs.environment)}${cs.runId ? ` · run ${sanitize(cs.runId)}` : ''}`), ''];
  if (cs.results.length === 0) lines.push('  No changes: the live fleet matches the fleet repository.');
  for (const r of cs.results) lines.push(...resultLines(r, paint));
  if (cs.rollout.waves.length > 0) {
    lines.push('', paint('bold', 'Rollout:'));
    for (const w of cs.rollout.waves) {
      const mark = w.halted ? paint('red', 'halted') : paint('green', 'passed');
      lines.push(`  wave ${w.wave}: ${w.actions - w.failed}/${w.actions} ok, failure ratio ${w.failureRatio.toFixed(2)} (max ${cs.rollout.maxFailureRatio}) ${mark}`);
    }
  }
  if ((cs.accountFailures ?? []).length > 0) {
    lines.push('', paint('bold', 'Accounts:'));
    for (const m of cs.accountFailures!) lines.push(`  ${paint('red', '✗')} ${sanitize(m)}`);
  }
  const { ok, failed, skipped } = cs.summary;
  const outcome = changeSetExitCode(cs) === 0 ? 'Applied (exit 0).' : 'Some changes were not applied (exit 4); the next apply retries them.';
  lines.push('', `${paint('bold', 'Apply:')} ${ok} ok, ${failed} failed, ${skipped} skipped. ${outcome}`);
  return `${lines.join('\n')}\n`;
}

/** One line for progress output as an action settles. */
export function resultLine(r: ActionResult): string {
  return `${symbol(r.status)} ${verb(r)} ${targetLabel(r.target)}${r.status === 'failed' ? `: ${sanitize(r.error ?? '')}` : ''}`;
}

function resultLines(r: ActionResult, paint: (style: Style, text: string) => string): string[] {
  const style: Style = r.status === 'ok' ? 'green' : r.status === 'failed' ? 'red' : 'yellow';
  const wave = r.wave !== undefined ? paint('dim', ` (wave ${r.wave})`) : '';
  const account = r.account ? ` [${r.account}]` : '';
  const out = [`  ${paint(style, `${symbol(r.status)} ${verb(r)}`)} ${targetLabel(r.target)}${account}${wave} ${paint('dim', `${(r.durationMs / 1000).toFixed(1)} s`)}`];
  if (r.status === 'failed') out.push(`      ${paint('red', `error: ${sanitize(r.error ?? 'unknown')}`)}`);
  if (r.skipped) out.push(`      skipped (${r.skipped.reason}): ${sanitize(r.skipped.detail)}`);
  if (r.resources.length > 0) out.push(`      ${r.resources.map(resourceLabel).join(', ')}`);
  return out;
}

function symbol(status: ActionResult['status']): string {
  return status === 'ok' ? '✓' : status === 'failed' ? '✗' : '-';
}

function verb(r: ActionResult): string {
  if (r.move) return `move ${r.move.from} → ${r.move.to} (${r.kind})`;
  return r.replacement ? `replace (${r.kind})` : r.kind;
}

function resourceLabel(c: ResourceChange): string {
  return `${c.kind} ${sanitize(c.id)} ${c.state}`;
}
