/**
 * `/`: the fleet. One row per tenant and, under it, one per workspace: declared power and the
 * live instance state, the image (or AMI), the last apply that recorded an event for it (from the
 * audit store's history) and its drift state (from the last drift run). Built from the desired
 * state when there is one, else from the inventory alone.
 */
import type { DesiredState } from '../../desired/model.js';
import type { DriftResult } from '../../drift/model.js';
import type { Inventory, LiveInstance } from '../../live/model.js';
import type { History, RunRecord } from '../../store/model.js';
import { html, pathSegment, type Html } from '../html.js';
import { badge, empty, layout } from './layout.js';

export interface FleetInput {
  environment: string;
  updatedAt: string | undefined;
  desired: DesiredState | undefined;
  inventory: Inventory | undefined;
  drift: DriftResult | undefined;
  history: History;
}

interface Row {
  slug: string;
  orgId: string;
  workspace?: { id: string; name: string };
  power: string | undefined;
  image: string | undefined;
  live: LiveInstance | undefined;
}

function rows(input: FleetInput): Row[] {
  const { desired, inventory } = input;
  const liveTenant = (orgId: string) => inventory?.tenants[orgId];
  if (desired) {
    return desired.tenants.flatMap((t) => {
      const lt = liveTenant(t.spec.orgId);
      const tenantRow: Row = { slug: t.spec.slug, orgId: t.spec.orgId, power: t.spec.power, image: t.effective.image, live: lt?.instances[0] };
      const wsRows = t.workspaces.map<Row>((w) => ({
        slug: t.spec.slug,
        orgId: t.spec.orgId,
        workspace: { id: w.spec.id, name: w.spec.name },
        power: w.spec.power,
        image: w.effective.image ?? `ami ${w.effective.ami}`,
        live: lt?.workspaces[w.spec.id]?.instances[0],
      }));
      return [tenantRow, ...wsRows];
    });
  }
  return Object.values(inventory?.tenants ?? {}).flatMap((lt) => {
    const slug = lt.slug ?? lt.orgId;
    const tenantRow: Row = { slug, orgId: lt.orgId, power: undefined, image: undefined, live: lt.instances[0] };
    const ws = Object.values(lt.workspaces).map<Row>((w) => ({
      slug,
      orgId: lt.orgId,
      workspace: { id: w.workspaceId, name: w.instances[0]?.tags['Name'] ?? w.workspaceId },
      power: undefined,
      image: w.instances[0] ? `ami ${w.instances[0].imageId}` : undefined,
      live: w.instances[0],
    }));
    return [tenantRow, ...ws];
  });
}

/** The newest apply run that recorded an event for this tenant (or workspace). */
function lastApply(history: History, row: Row): RunRecord | undefined {
  const applies = new Map(history.runs.filter((r) => r.command === 'apply').map((r) => [r.runId, r]));
  for (const e of history.resources) {
    if (e.orgId !== row.orgId) continue;
    if (row.workspace ? e.workspaceId !== row.workspace.id : e.workspaceId !== undefined) continue;
    const run = applies.get(e.runId);
    if (run) return run;
  }
  return undefined;
}

function driftCell(drift: DriftResult | undefined, row: Row): Html {
  if (!drift) return html`<span class="muted">not observed</span>`;
  const mine = drift.findings.filter((f) => f.orgId === row.orgId && (row.workspace ? f.workspace === row.workspace.name : f.workspace === undefined));
  if (mine.length === 0) return badge('clean', 'ok');
  const security = mine.filter((f) => f.severity === 'security').length;
  const other = mine.length - security;
  return html`<a href="/drift">${security > 0 ? badge(`${security} security`, 'bad') : ''} ${other > 0 ? badge(`${other} drift`, 'warn') : ''}</a>`;
}

function powerCell(row: Row): Html {
  const state = row.live?.state ?? 'absent';
  const match = row.power === undefined || row.power === state;
  return html`${row.power ?? ''} ${badge(state, match ? 'ok' : 'warn')}`;
}

export function renderFleet(input: FleetInput): string {
  const all = rows(input);
  const body =
    all.length === 0
      ? empty('No tenants: nothing declared or observed yet.')
      : html`<table><thead><tr><th>Tenant / workspace</th><th>Org / workspace id</th><th>Power (declared, live)</th><th>Image</th><th>Instance</th><th>Last apply</th><th>Drift</th></tr></thead><tbody>
${all.map((r) => {
  const run = lastApply(input.history, r);
  return html`<tr>
<td${r.workspace ? html` class="ws"` : ''}>${r.workspace ? r.workspace.name : html`<strong>${r.slug}</strong>`}</td>
<td><code>${r.workspace ? r.workspace.id : r.orgId}</code></td>
<td>${powerCell(r)}</td><td><code>${r.image ?? ''}</code></td>
<td><code>${r.live?.instanceId ?? ''}</code> ${r.live?.instanceType ?? ''}</td>
<td>${run ? html`<a href="/runs/${pathSegment(run.runId)}">${run.startedAt}</a> ${badge(run.status, run.status === 'succeeded' ? 'ok' : 'bad')}` : html`<span class="muted">never</span>`}</td>
<td>${driftCell(input.drift, r)}</td></tr>
`;
})}</tbody></table>`;
  return layout({ title: 'Fleet', environment: input.environment, path: '/', updatedAt: input.updatedAt, body });
}
