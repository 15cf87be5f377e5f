/**
 * `drift --markdown`: for an issue or a job summary. Security findings first in a CAUTION block,
 * then a table of the rest, then the informational notes (kept by rule); bounded below GitHub's comment limit like the plan's comment:
 * security findings are cut last, and a note counts what was left out and says how to see it all.
 */
import type { DriftFinding, DriftResult } from '../drift/model.js';
import { callsLine, deepLine, fixLine, findingDetail, findingResource, findingTarget, headline, repairLine } from './drift-format.js';
import { GITHUB_COMMENT_LIMIT, md } from './plan-markdown.js';

const DEFAULT_MAX_LENGTH = GITHUB_COMMENT_LIMIT - 1_536;
const RESERVE = 1_000;
const MAX_CELL = 300;

const cell = (s: string) => md(s.length > MAX_CELL ? `${s.slice(0, MAX_CELL - 1)}…` : s);

export function renderDriftMarkdown(r: DriftResult, opts: { maxLength?: number } = {}): string {
  const max = Math.min(opts.maxLength ?? DEFAULT_MAX_LENGTH, GITHUB_COMMENT_LIMIT - 1) - RESERVE;
  const lines: string[] = [`### tenantform drift: ${md(r.environment)}`, '', `**${md(headline(r))}**`, ''];
  let length = lines.join('\n').length;
  let cut = 0;
  const add = (line: string): boolean => {
    if (length + line.length + 1 > max) {
      cut += 1;
      return false;
    }
    lines.push(line);
    length += line.length + 1;
    return true;
  };
  if (r.fix) {
    add(`**Fix** (run ${md(r.fix.runId)}): ${r.fix.before.length} finding${r.fix.before.length === 1 ? '' : 's'} before; after it, what is listed below.`);
    add('');
    for (const o of r.fix.outcomes) add(`- ${cell(fixLine(o))}`);
    add('');
  }
  const security = r.findings.filter((f) => f.severity === 'security');
  const rest = r.findings.filter((f) => f.severity === 'drift');
  if (security.length > 0) {
    add('> [!CAUTION]');
    add(`> **${security.length} security finding${security.length === 1 ? '' : 's'}**`);
    add('>');
    for (const f of security) add(`> - **${cell(findingTarget(f))}** ${cell(findingResource(f))}: ${cell(findingDetail(f))} (${cell(repairLine(f))})`);
    add('');
  }
  if (rest.length > 0) {
    add('| Tenant | Resource | Drift | Repair |');
    add('|:--|:--|:--|:--|');
    for (const f of rest) add(row(f));
    add('');
  }
  const notes = r.notes ?? [];
  if (notes.length > 0) {
    add(`**Notes** (kept by rule, nothing to fix):`);
    for (const f of notes) add(`- **${cell(findingTarget(f))}** ${cell(findingResource(f))}: ${cell(findingDetail(f))} (${cell(repairLine(f))})`);
    add('');
  }
  // Always written: they fit in the reserve.
  lines.push(md(deepLine(r)), '', md(callsLine(r)));
  if (cut > 0) lines.push('', `_${cut} line${cut === 1 ? '' : 's'} left out to stay within the comment limit; run \`tenantform drift --json\` for every finding._`);
  return `${lines.join('\n')}\n`;
}

function row(f: DriftFinding): string {
  return `| ${cell(findingTarget(f))} | ${cell(findingResource(f))} | ${cell(findingDetail(f))} | ${cell(repairLine(f))} |`;
}
