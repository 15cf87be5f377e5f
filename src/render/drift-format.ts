/** Wording shared by the drift renderers, so text and Markdown say the same things. */
import type { DriftFinding, DriftResult, FixOutcome } from '../drift/model.js';

export function findingTarget(f: DriftFinding): string {
  return f.workspace ? `${f.slug}/${f.workspace}` : f.slug;
}

export function findingResource(f: DriftFinding): string {
  return f.resourceId ? `${f.resource} ${f.resourceId}` : f.resource;
}

export function findingDetail(f: DriftFinding): string {
  const parts = [f.message];
  if (f.expected !== undefined && !f.message.includes(f.expected)) parts.push(`expected ${f.expected}`);
  if (f.actual !== undefined && !f.message.includes(f.actual)) parts.push(`found ${f.actual}`);
  return parts.join('; ');
}

export function repairLine(f: DriftFinding): string {
  if (f.severity === 'info') return `nothing to fix${f.remedy ? `; ${f.remedy}` : ''}`;
  if (f.repair === 'inPlace') return f.remedy ? `fixable in place: ${f.remedy}` : 'fixable in place (drift --fix, or apply)';
  return `not fixable in place: ${f.remedy ?? 'see the message'}`;
}

export function headline(r: DriftResult): string {
  if (r.findings.length === 0) return `No drift in ${r.tenants} tenant${r.tenants === 1 ? '' : 's'}.`;
  const security = r.findings.filter((f) => f.severity === 'security').length;
  const tenants = new Set(r.findings.map((f) => f.orgId)).size;
  return `Drift: ${r.findings.length} finding${r.findings.length === 1 ? '' : 's'} (${security} security) in ${tenants} of ${r.tenants} tenant${r.tenants === 1 ? '' : 's'}.`;
}

export function deepLine(r: DriftResult): string {
  const budget = r.deep.budget === undefined ? 'no budget' : `budget ${r.deep.budget} per service`;
  const pending =
    r.deep.pending.length === 0
      ? 'none pending'
      : `${r.deep.pending.length} pending (stalest first: ${r.deep.pending.slice(0, 10).join(', ')}${r.deep.pending.length > 10 ? ', …' : ''})`;
  return `Deep-checked ${r.deep.checked.length} of ${r.tenants} tenants (${budget}); ${pending}.`;
}

export function callsLine(r: DriftResult): string {
  const fmt = (c: Record<string, number>) =>
    Object.entries(c)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ') || 'none';
  return `Calls: list ${fmt(r.calls.list)}; deep ${fmt(r.calls.deep)}.`;
}

const FIX_WORD: Record<FixOutcome['status'], string> = { fixed: 'fixed', failed: 'FAILED', leftToApply: 'left to apply', manual: 'manual' };

export function fixLine(o: FixOutcome): string {
  const who = o.workspace ? `${o.slug}/${o.workspace}` : o.slug;
  return `${FIX_WORD[o.status]}: ${who} ${o.resource}${o.resourceId ? ` ${o.resourceId}` : ''} (${o.codes.join(', ')}): ${o.detail}`;
}
