/**
 * Drift for a terminal: security findings first under a loud marker, then the rest, one line per
 * finding with what to do, then the informational notes (kept by rule), then which tenants were
 * deep-checked and which wait for a later run.
 */
import type { DriftFinding, DriftResult } from '../drift/model.js';
import { sanitize } from './plan-format.js';
import { callsLine, deepLine, fixLine, findingDetail, findingResource, findingTarget, headline, repairLine } from './drift-format.js';

export function renderDriftText(r: DriftResult, opts: { color: boolean }): string {
  const paint = (code: string, s: string) => (opts.color ? `\u001b[${code}m${s}\u001b[0m` : s);
  const lines: string[] = [`tenantform drift: ${r.environment}`, ''];
  const section = (title: string, items: DriftFinding[], marker: string) => {
    if (items.length === 0) return;
    lines.push(title);
    for (const f of items) {
      lines.push(`  ${marker} ${sanitize(findingTarget(f))}  ${sanitize(findingResource(f))}: ${sanitize(findingDetail(f))}`);
      lines.push(`      ${sanitize(repairLine(f))}`);
    }
    lines.push('');
  };
  if (r.fix) {
    lines.push(`Fix (run ${r.fix.runId}): ${r.fix.before.length} finding${r.fix.before.length === 1 ? '' : 's'} before`);
    for (const o of r.fix.outcomes) lines.push(`  ${sanitize(fixLine(o))}`);
    lines.push('', r.findings.length === 0 ? 'Looked again: clean.' : 'Looked again; left after the fix:', '');
  }
  section(
    paint('1;31', 'SECURITY'),
    r.findings.filter((f) => f.severity === 'security'),
    paint('31', '!'),
  );
  section(
    'Drift',
    r.findings.filter((f) => f.severity === 'drift'),
    paint('33', '~'),
  );
  section('Notes (kept by rule)', r.notes ?? [], 'i');
  lines.push(r.findings.length === 0 ? paint('32', headline(r)) : headline(r));
  lines.push(deepLine(r), callsLine(r));
  return `${lines.join('\n')}\n`;
}
