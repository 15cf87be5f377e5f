/**
 * `/rollout`: the apply in progress with its waves' live counts (rollout-live.ts; the page reloads
 * itself while it runs), then the last plan's and change set's waves: per wave, the planned
 * redeploys (from the last plan's `wave`), and how they went (from the last change set's wave
 * results: actions, failures, ratio, halted), with the failed actions listed.
 */
import type { ChangeSet } from '../../changeset/model.js';
import type { Plan } from '../../plan/model.js';
import { html } from '../html.js';
import type { RolloutProgress } from '../snapshot.js';
import { badge, empty, layout } from './layout.js';
import { isRunning, LIVE_REFRESH_SECONDS, renderLive } from './rollout-live.js';

export interface RolloutInput {
  environment: string;
  updatedAt: string | undefined;
  rollout: RolloutProgress | undefined;
  plan: Plan | undefined;
  changeSet: ChangeSet | undefined;
}

function waveNumbers(plan: Plan | undefined, cs: ChangeSet | undefined): number[] {
  const set = new Set<number>();
  for (const a of plan?.actions ?? []) if (a.wave !== undefined) set.add(a.wave);
  for (const w of cs?.rollout.waves ?? []) set.add(w.wave);
  return [...set].sort((a, b) => a - b);
}

export function renderRollout(input: RolloutInput): string {
  const { rollout: p, plan, changeSet: cs } = input;
  const waves = waveNumbers(plan, cs);
  const failures = cs?.results.filter((r) => r.status === 'failed') ?? [];
  const progress = renderLive(p);
  const waveTable =
    waves.length === 0
      ? empty('No waves: the last plan and change set hold no redeploys.')
      : html`<table><thead><tr><th>Wave</th><th>Planned</th><th>Tenants</th><th>Applied</th><th>Failed</th><th>Failure ratio</th><th>State</th></tr></thead><tbody>
${waves.map((n) => {
  const planned = plan?.actions.filter((a) => a.wave === n) ?? [];
  const result = cs?.rollout.waves.find((w) => w.wave === n);
  const state = result ? (result.halted ? badge('halted', 'bad') : badge('done', 'ok')) : cs?.rollout.halted ? badge('not run', 'warn') : badge('pending');
  return html`<tr><td>${n === 0 ? 'canary (0)' : n}</td><td>${planned.length}</td><td>${[...new Set(planned.map((a) => a.target.slug))].join(', ')}</td>
<td>${result?.actions ?? ''}</td><td>${result?.failed ?? ''}</td><td>${result ? result.failureRatio.toFixed(2) : ''}</td><td>${state}</td></tr>
`;
})}</tbody></table>${cs ? html`<p class="muted">max failure ratio ${cs.rollout.maxFailureRatio}</p>` : ''}`;
  const failed =
    failures.length === 0
      ? empty('No failed actions in the last change set.')
      : html`<table><thead><tr><th>Action</th><th>Target</th><th>Wave</th><th>Error</th></tr></thead><tbody>
${failures.map((r) => html`<tr><td><code>${r.actionId}</code></td><td>${r.target.slug}${r.target.workspaceName ? html` / ${r.target.workspaceName}` : ''}</td><td>${r.wave ?? ''}</td><td>${r.error ?? ''}</td></tr>`)}
</tbody></table>`;
  const body = html`<h2>In progress</h2>${progress}<h2>Waves of the last plan and change set</h2>${waveTable}<h2>Failures</h2>${failed}`;
  const refreshSeconds = isRunning(p) ? LIVE_REFRESH_SECONDS : undefined;
  return layout({ title: 'Rollout', environment: input.environment, path: '/rollout', updatedAt: input.updatedAt, body, refreshSeconds });
}
