/**
 * `/drift`: the last drift run's findings, security first (sortFindings' order), with the
 * expected and actual values (never secrets: drift compares names, ports, sources, types and tag
 * values) and the remedy. Then, apart, its informational notes (severity `info`: what differs but
 * is kept by rule, e.g. a root volume larger than declared): they are not findings, so they are
 * in neither count and never make the "No drift" line untrue.
 */
import { sortFindings, type DriftFinding, type DriftResult } from '../../drift/model.js';
import { html, type Html } from '../html.js';
import { badge, empty, layout } from './layout.js';

export interface DriftInput {
  environment: string;
  updatedAt: string | undefined;
  drift: DriftResult | undefined;
}

export function renderDrift(input: DriftInput): string {
  const d = input.drift;
  const notes = d?.notes ?? [];
  const body = !d
    ? empty('No drift run yet.')
    : html`<p>Observed ${d.observedAt} over ${d.tenants} tenants: ${badge(`${d.findings.filter((f) => f.severity === 'security').length} security`, 'bad')}
${badge(`${d.findings.length} findings`, d.findings.length ? 'warn' : 'ok')}${notes.length ? html` ${badge(`${notes.length} note${notes.length === 1 ? '' : 's'}`)}` : ''}${d.deep.pending.length ? html` <span class="muted">deep check pending: ${d.deep.pending.join(', ')}</span>` : ''}</p>
${d.warnings.map((w) => html`<p>${badge('warning', 'warn')} ${w}</p>`)}
${
  d.findings.length === 0
    ? empty('No drift: everything matches what tenantform would have created.')
    : html`<table><thead><tr><th>Severity</th><th>Tenant</th><th>Workspace</th><th>Resource</th><th>Code</th><th>Expected</th><th>Actual</th><th>Message</th><th>Repair</th></tr></thead><tbody>
${sortFindings([...d.findings]).map(
  (f) => html`<tr><td>${badge(f.severity, f.severity === 'security' ? 'bad' : 'warn')}</td><td>${f.slug}</td><td>${f.workspace ?? ''}</td>
<td>${f.resource} <code>${f.resourceId}</code></td><td><code>${f.code}</code></td><td><code>${f.expected ?? ''}</code></td><td><code>${f.actual ?? ''}</code></td>
<td>${f.message}</td><td>${f.repair}${f.remedy ? html`: ${f.remedy}` : ''}</td></tr>
`,
)}</tbody></table>`
}
${notesSection(notes)}`;
  return layout({ title: 'Drift', environment: input.environment, path: '/drift', updatedAt: input.updatedAt, body });
}

/** The notes table: what differs and why it is kept, with what the operator may do about it. */
function notesSection(notes: readonly DriftFinding[]): Html | string {
  if (notes.length === 0) return '';
  return html`<h2>Notes (kept by rule, nothing to fix)</h2>
<table class="notes"><thead><tr><th>Severity</th><th>Tenant</th><th>Workspace</th><th>Resource</th><th>Code</th><th>Expected</th><th>Actual</th><th>Message</th><th>If you want it to match</th></tr></thead><tbody>
${sortFindings([...notes]).map(
  (f) => html`<tr><td>${badge(f.severity)}</td><td>${f.slug}</td><td>${f.workspace ?? ''}</td>
<td>${f.resource} <code>${f.resourceId}</code></td><td><code>${f.code}</code></td><td><code>${f.expected ?? ''}</code></td><td><code>${f.actual ?? ''}</code></td>
<td>${f.message}</td><td>${f.remedy ?? ''}</td></tr>
`,
)}</tbody></table>`;
}
