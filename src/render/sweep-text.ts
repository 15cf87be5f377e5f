/**
 * The sweep for a terminal: a headline, then one line per orphan (verdict, kind, id, owner, why,
 * age), then the lost claims and any guard refusal. Every cloud-sourced text is sanitised.
 */
import type { SweepReport } from '../sweep/model.js';
import { sanitize } from './plan-format.js';
import { formatAge, formatDuration, headline, KIND_TEXT, ownerLabel, REASON_TEXT, VERDICT_TEXT } from './sweep-format.js';

export function renderSweepText(report: SweepReport, opts: { color: boolean }): string {
  const bold = (t: string) => (opts.color ? `\u001b[1m${t}\u001b[0m` : t);
  const mode = report.mode === 'dryRun' ? 'dry run' : 'delete';
  const lines = [bold(`tenantform sweep · environment ${sanitize(report.environment)} · ${mode} · min age ${formatDuration(report.minAgeMs)}`), ''];
  lines.push(`  ${headline(report)}`);
  if (report.orphans.length > 0) lines.push('', bold('Orphans:'));
  for (const o of report.orphans) {
    const name = o.name && o.name !== o.id ? ` ${sanitize(o.name)}` : '';
    lines.push(
      `  ${VERDICT_TEXT[o.verdict].padEnd(24)} ${KIND_TEXT[o.kind]} ${sanitize(o.id)}${name} · ${sanitize(ownerLabel(o))} · ${REASON_TEXT[o.reason]} · ${formatAge(report, o)}`,
    );
    if (o.error) lines.push(`      ${sanitize(o.error)}`);
  }
  if (report.lost.length > 0) {
    lines.push('', bold('Lost (claimed in the audit store, gone from the cloud; never acted on):'));
    for (const l of report.lost) lines.push(`  ${sanitize(l.kind)} ${sanitize(l.id)} · ${sanitize(l.slug)} · claimed ${sanitize(l.at)} by run ${sanitize(l.runId)}`);
  }
  if (report.refusals.length > 0) {
    lines.push('', bold('Refused by a guard:'));
    for (const r of report.refusals) lines.push(`  - ${sanitize(r)}`);
  }
  if (report.mode === 'dryRun' && report.summary.deletable > 0) lines.push('', '  Run with --delete to remove what is marked "would delete".');
  return `${lines.join('\n')}\n`;
}
