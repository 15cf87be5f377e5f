/**
 * `/rollout`'s "In progress" part: the apply serve is running (or ran last) — one status sentence
 * (a `role="status"` region, so assistive technology reads it when the page reloads) and, per
 * rollout wave, its targets, done, failed, remaining, health gate and state. The data is folded
 * from apply's progress events (src/web/live-rollout.ts); a snapshot without waves (made without
 * live progress) shows its phase and counts only.
 */
import { formatDuration } from '../../render/eta.js';
import { html, type Html } from '../html.js';
import type { LiveWave, RolloutProgress } from '../snapshot.js';
import { badge, empty } from './layout.js';

/** How often the page reloads while a rollout runs. */
export const LIVE_REFRESH_SECONDS = 3;

export function isRunning(p: RolloutProgress | undefined): boolean {
  return p?.state === 'running';
}

export function renderLive(p: RolloutProgress | undefined): Html {
  if (!p) return html`<p id="rollout-status" role="status" class="muted">No rollout in progress.</p>`;
  if (!p.state || !p.waves) {
    return html`<table><tbody><tr><th>Phase</th><td>${p.phase}</td></tr><tr><th>Wave</th><td>${p.wave ?? ''}</td></tr>
<tr><th>Done</th><td>${p.done}</td></tr><tr><th>Failed</th><td>${badge(String(p.failed), p.failed ? 'bad' : 'ok')}</td></tr><tr><th>Remaining</th><td>${p.remaining}</td></tr></tbody></table>`;
  }
  const waves = p.waves;
  const table =
    waves.length === 0
      ? empty('This apply has no rollout waves (no redeploy or replacement).')
      : html`<table><caption class="muted">Waves of the ${p.state === 'running' ? 'running' : 'last'} apply</caption>
<thead><tr><th scope="col">Wave</th><th scope="col">Tenants</th><th scope="col">Done</th><th scope="col">Failed</th><th scope="col">Remaining</th><th scope="col">Health gate</th><th scope="col">State</th><th scope="col">Time</th></tr></thead><tbody>
${waves.map(
  (
    w,
  ) => html`<tr data-wave="${w.wave}"><td>${w.wave === 0 ? 'canary (0)' : w.wave}</td><td>${w.targets}</td><td>${w.done}</td><td>${w.failed ? badge(String(w.failed), 'bad') : '0'}</td><td>${w.remaining}</td>
<td>${gate(w)}</td><td>${state(w)}</td><td>${w.durationMs !== undefined ? formatDuration(w.durationMs) : ''}</td></tr>
`,
)}</tbody></table>`;
  const running = p.state === 'running';
  return html`<p id="rollout-status" role="status"${running ? '' : html` class="muted"`}>${sentence(p)}</p>${table}${
    running ? html`<p class="muted">This page reloads every ${LIVE_REFRESH_SECONDS} s while the rollout runs.</p>` : ''
  }`;
}

function sentence(p: RolloutProgress): string {
  const counts = `${p.done} done, ${p.failed} failed, ${p.remaining} remaining`;
  const waves = p.waves ?? [];
  const at = waves.findIndex((w) => w.wave === p.wave);
  if (p.state === 'running') {
    const where = p.phase === 'rollout' && at >= 0 ? `rollout wave ${p.wave} (${at + 1} of ${waves.length})` : 'apply (before the rollout)';
    return `Apply running since ${p.startedAt ?? '?'}: ${where}; ${counts}.`;
  }
  const how = p.state === 'finished' ? 'Rollout finished' : p.state === 'halted' ? 'Rollout halted' : p.state === 'interrupted' ? 'Apply interrupted' : 'Apply failed';
  return `${how} at ${p.finishedAt ?? '?'}${p.runId ? ` (run ${p.runId})` : ''}: ${counts}.`;
}

function gate(w: LiveWave): Html | string {
  switch (w.gate) {
    case 'checking':
      return badge(`checking ${w.checking ?? '?'} tenant${w.checking === 1 ? '' : 's'}`, 'warn');
    case 'passed':
      return badge('passed', 'ok');
    case 'failed':
      return badge(`${w.unhealthy ?? '?'} unhealthy`, 'bad');
    default:
      return w.state === 'done' || w.state === 'halted' ? 'none' : '';
  }
}

function state(w: LiveWave): Html {
  if (w.state === 'running') return badge(w.gate === 'checking' ? 'health gate' : 'running', 'warn');
  if (w.state === 'done') return badge('done', 'ok');
  if (w.state === 'halted') return badge('halted', 'bad');
  if (w.state === 'not run') return badge('not run', 'warn');
  return badge('pending');
}
