/**
 * `/orphans`: the last sweep's report: live resources carrying the environment's marks that no
 * declaration backs (with the verdict a --delete would act on), and audit claims whose resource
 * is gone.
 */
import type { SweepReport } from '../../sweep/model.js';
import { html, pathSegment } from '../html.js';
import { badge, empty, layout } from './layout.js';

export interface OrphansInput {
  environment: string;
  updatedAt: string | undefined;
  sweep: SweepReport | undefined;
}

export function renderOrphans(input: OrphansInput): string {
  const s = input.sweep;
  const body = !s
    ? empty('No sweep run yet.')
    : html`<p>Observed ${s.observedAt} (${s.mode === 'delete' ? 'delete' : 'dry run'}): ${badge(`${s.summary.orphans} orphans`, s.summary.orphans ? 'warn' : 'ok')}
${badge(`${s.summary.deletable} deletable`)} ${badge(`${s.summary.lost} lost claims`, s.summary.lost ? 'warn' : 'none')}</p>
${s.refusals.map((r) => html`<p>${badge('refused', 'bad')} ${r}</p>`)}
${
  s.orphans.length === 0
    ? empty('No orphans.')
    : html`<table><thead><tr><th>Kind</th><th>Id</th><th>Name</th><th>Tenant</th><th>Reason</th><th>Since</th><th>Verdict</th></tr></thead><tbody>
${s.orphans.map(
  (o) => html`<tr><td>${o.kind}</td><td><code>${o.id}</code></td><td>${o.name ?? ''}</td><td>${o.slug ?? o.orgId ?? ''}</td><td>${o.reason}</td>
<td>${o.since ?? ''} <span class="muted">${o.ageSource}</span></td><td>${badge(o.verdict, o.verdict === 'failed' ? 'bad' : o.verdict === 'delete' ? 'warn' : 'none')}${o.error ? html` ${o.error}` : ''}</td></tr>
`,
)}</tbody></table>`
}
<h2>Lost claims</h2>
${
  s.lost.length === 0
    ? empty('None: every resource the audit store claims exists.')
    : html`<table><thead><tr><th>Kind</th><th>Id</th><th>Tenant</th><th>Recorded</th><th>Run</th></tr></thead><tbody>
${s.lost.map((l) => html`<tr><td>${l.kind}</td><td><code>${l.id}</code></td><td>${l.slug}</td><td>${l.at}</td><td><a href="/runs/${pathSegment(l.runId)}">${l.runId}</a></td></tr>`)}
</tbody></table>`
}`;
  return layout({ title: 'Orphans', environment: input.environment, path: '/orphans', updatedAt: input.updatedAt, body });
}
