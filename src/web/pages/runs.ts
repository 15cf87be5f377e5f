/**
 * `/runs` and `/runs/<runId>`: the audit store's runs, newest first, and one run with its
 * resource events and, when it is the last apply serve made, its change set (per action: status,
 * wave, error, resources). Summaries are free-form JSON the store has already redacted; the
 * handler redacts again before rendering.
 */
import type { ChangeSet } from '../../changeset/model.js';
import type { ResourceRecord, RunRecord, RunStatus } from '../../store/model.js';
import { html, pathSegment, type Html } from '../html.js';
import { badge, empty, layout } from './layout.js';

const TONE: Record<RunStatus, 'ok' | 'bad' | 'warn' | 'none'> = {
  succeeded: 'ok',
  running: 'none',
  partial: 'warn',
  failed: 'bad',
  refused: 'warn',
  interrupted: 'warn',
  abandoned: 'bad',
};

export function statusBadge(status: RunStatus): Html {
  return badge(status, TONE[status]);
}

export interface RunsInput {
  environment: string;
  updatedAt: string | undefined;
  runs: RunRecord[];
}

export function renderRuns(input: RunsInput): string {
  const body =
    input.runs.length === 0
      ? empty('No runs recorded yet.')
      : html`<table><thead><tr><th>Run</th><th>Command</th><th>Status</th><th>Exit</th><th>Started</th><th>Finished</th><th>Commit</th><th>Host</th></tr></thead><tbody>
${input.runs.map(
  (r) => html`<tr><td><a href="/runs/${pathSegment(r.runId)}"><code>${r.runId}</code></a></td><td>${r.command}</td><td>${statusBadge(r.status)}</td>
<td>${r.exitCode}</td><td>${r.startedAt}</td><td>${r.finishedAt ?? ''}</td><td><code>${r.gitCommit?.slice(0, 12) ?? ''}</code></td><td>${r.host} pid ${r.pid}</td></tr>
`,
)}</tbody></table>`;
  return layout({ title: 'Runs', environment: input.environment, path: '/runs', updatedAt: input.updatedAt, body });
}

export interface RunInput {
  environment: string;
  updatedAt: string | undefined;
  run: RunRecord;
  /** This run's resource events, newest first. */
  events: ResourceRecord[];
  /** The change set, when the snapshot holds this run's. */
  changeSet: ChangeSet | undefined;
}

function eventsTable(events: ResourceRecord[]): Html {
  if (events.length === 0) return empty('No resource events recorded by this run.');
  return html`<table><thead><tr><th>#</th><th>At</th><th>Tenant</th><th>Workspace</th><th>Kind</th><th>Resource</th><th>State</th></tr></thead><tbody>
${events.map(
  (e) => html`<tr><td>${e.seq}</td><td>${e.at}</td><td>${e.slug}</td><td><code>${e.workspaceId ?? ''}</code></td><td>${e.kind}</td><td><code>${e.resourceId}</code></td>
<td>${badge(e.state, e.state === 'failed' ? 'bad' : 'none')}</td></tr>
`,
)}</tbody></table>`;
}

export function changeSetTable(cs: ChangeSet): Html {
  return html`<p>${badge(`${cs.summary.ok} ok`, 'ok')} ${badge(`${cs.summary.failed} failed`, cs.summary.failed ? 'bad' : 'none')} ${badge(`${cs.summary.skipped} skipped`, cs.summary.skipped ? 'warn' : 'none')}
${cs.rollout.halted ? badge('rollout halted', 'bad') : ''}</p>
<table><thead><tr><th>Action</th><th>Target</th><th>Wave</th><th>Status</th><th>Resources</th><th>Error / skipped</th><th>ms</th></tr></thead><tbody>
${cs.results.map(
  (r) => html`<tr><td><code>${r.actionId}</code></td><td>${r.target.slug}${r.target.workspaceName ? html` / ${r.target.workspaceName}` : ''}</td><td>${r.wave ?? ''}</td>
<td>${badge(r.status, r.status === 'ok' ? 'ok' : r.status === 'failed' ? 'bad' : 'warn')}</td>
<td>${r.resources.map((c) => html`${c.kind} <code>${c.id}</code> ${c.state}<br>`)}</td>
<td>${r.error ?? ''}${r.failedOperation ? html` (${r.failedOperation})` : ''}${r.skipped ? `${r.skipped.reason}: ${r.skipped.detail}` : ''}</td><td>${r.durationMs}</td></tr>
`,
)}</tbody></table>`;
}

export function renderRun(input: RunInput): string {
  const r = input.run;
  const body = html`<table><tbody>
<tr><th>Run</th><td><code>${r.runId}</code></td></tr><tr><th>Command</th><td>${r.command}</td></tr>
<tr><th>Status</th><td>${statusBadge(r.status)} exit ${r.exitCode}</td></tr>
<tr><th>Started</th><td>${r.startedAt}</td></tr><tr><th>Finished</th><td>${r.finishedAt ?? ''}</td></tr>
<tr><th>Commit</th><td><code>${r.gitCommit ?? ''}</code></td></tr><tr><th>Host</th><td>${r.host} pid ${r.pid}</td></tr>
${r.abandoned ? html`<tr><th>Abandoned</th><td>${r.abandoned.at} by <a href="/runs/${pathSegment(r.abandoned.byRunId)}">${r.abandoned.byRunId}</a> (${r.abandoned.reason})</td></tr>` : ''}
<tr><th>Summary</th><td><code>${r.summary === undefined ? '' : JSON.stringify(r.summary)}</code></td></tr>
</tbody></table>
${input.changeSet ? html`<h2>Change set</h2>${changeSetTable(input.changeSet)}` : ''}
<h2>Resource events</h2>
${eventsTable(input.events)}`;
  return layout({ title: `Run ${r.runId}`, environment: input.environment, path: '/runs', updatedAt: input.updatedAt, body });
}
