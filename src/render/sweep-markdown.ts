/**
 * `sweep --markdown`: the report for an issue or a job summary, bounded like the plan's comment
 * (GitHub refuses bodies over 65,536 characters): the headline and counts always, then orphans
 * and lost claims while they fit, then a note saying how many were cut. Text is escaped.
 */
import type { SweepReport } from '../sweep/model.js';
import { GITHUB_COMMENT_LIMIT, md } from './plan-markdown.js';
import { formatAge, formatDuration, headline, KIND_TEXT, ownerLabel, REASON_TEXT, VERDICT_TEXT } from './sweep-format.js';

const DEFAULT_MAX_LENGTH = GITHUB_COMMENT_LIMIT - 1_536;
const RESERVE = 600;

export function renderSweepMarkdown(report: SweepReport, opts: { maxLength?: number } = {}): string {
  const max = Math.min(opts.maxLength ?? DEFAULT_MAX_LENGTH, GITHUB_COMMENT_LIMIT - 1);
  const lines: string[] = [];
  let length = 0;
  const force = (...ls: string[]) => {
    for (const l of ls) {
      lines.push(l);
      length += l.length + 1;
    }
  };
  const fits = (l: string) => length + l.length + 1 <= max - RESERVE;
  const s = report.summary;
  force(`### tenantform sweep: ${md(report.environment)} (${report.mode === 'dryRun' ? 'dry run' : 'delete'}, min age ${formatDuration(report.minAgeMs)})`, '');
  force(`**${md(headline(report))}**`, '');
  if (s.orphans > 0 || s.lost > 0) {
    force('| | Count |', '|:--|--:|');
    for (const [label, n] of [
      ['orphans', s.orphans],
      [report.mode === 'dryRun' ? 'would delete' : 'deleted', report.mode === 'dryRun' ? s.deletable : s.deleted],
      ['delete failed', s.failed],
      ['too young', s.tooYoung],
      ['protected', s.protected],
      ['unattributed', s.reportOnly],
      ['refused', s.refused],
      ['lost claims', s.lost],
    ] as const) {
      if (n > 0) force(`| ${label} | ${n} |`);
    }
    force('');
  }
  for (const r of report.refusals) force('> [!CAUTION]', `> ${md(r)}`, '');
  let cut = 0;
  if (report.orphans.length > 0) force('| Verdict | Kind | Id | Owner | Why | Age |', '|:--|:--|:--|:--|:--|:--|');
  for (const o of report.orphans) {
    const line = `| ${VERDICT_TEXT[o.verdict]} | ${KIND_TEXT[o.kind]} | \`${md(o.id)}\` | ${md(ownerLabel(o))} | ${REASON_TEXT[o.reason]} | ${formatAge(report, o)} |`;
    if (fits(line)) force(line);
    else cut += 1;
  }
  if (report.lost.length > 0) force('', '**Lost claims** (in the audit store, gone from the cloud; never acted on):', '');
  for (const l of report.lost) {
    const line = `- ${md(l.kind)} \`${md(l.id)}\` of ${md(l.slug)}, claimed ${md(l.at)}`;
    if (fits(line)) force(line);
    else cut += 1;
  }
  if (cut > 0) force('', `_${cut} more line${cut === 1 ? '' : 's'} cut to fit; run \`tenantform sweep --json\` for all of them._`);
  return `${lines.join('\n')}\n`;
}
