/**
 * `/drift`: the last drift run's findings, security first (sortFindings' order), with the
 * expected and actual values (never secrets: drift compares names, ports, sources, types and tag
 * values) and the remedy.
 */
import { sortFindings, type DriftResult } from '../../drift/model.js';
import { html } from '../html.js';
import { badge, empty, layout } from './layout.js';

export interface DriftInput {
  environment: string;
  updatedAt: string | undefined;
  drift: DriftResult | undefined;
}

export function renderDrift(input: DriftInput): string {
  const d = input.drift;
  const body = !d
    ? empty('No drift run yet.')
    : html`<p>Observed ${d.observedAt} over ${d.tenants} tenants: ${badge(`${d.findings.filter((f) => f.severity === 'security').length} security`, 'bad')}
${badge(`${d.findings.length} findings`, d.findings.length ? 'warn' : 'ok')}${d.deep.pending.length ? html` <span class="muted">deep check pending: ${d.deep.pending.join(', ')}</span>` : ''}</p>
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
}`;
  return layout({ title: 'Drift', environment: input.environment, path: '/drift', updatedAt: input.updatedAt, body });
}
