/**
 * Rollout waves: which redeploys go together.
 *
 * - Rollout waves (redeploys only): tenants with any redeploy (their own or a workspace's) are
 *   ordered canaries first (wave 0), then the others by slug, split by `fleet.rollout.batches`
 *   — a count, or a percent of the tenants still remaining (rounded up, at least 1); tenants
 *   left after the listed batches form one final wave. A tenant's workspace redeploys share
 *   its wave.
 * - Replacements (both halves) ride the same waves: a tenant with a replacement (its own or a
 *   workspace's) is placed like a redeploying one, so instances are replaced canaries first and
 *   batch by batch (apply runs the replaced target's actions in that wave), never all at once.
 *   An account move (src/plan/accounts.ts) is a replacement too: its halves take its tenant's wave
 *   (apply runs all the moved tenant's actions there, the old home's delete after the wave's gate).
 */
import type { DesiredTenant, RolloutBatch } from '../desired/model.js';
import type { Action } from './model.js';
import { compareText } from './normalise.js';

export function assignWaves(actions: Action[], declared: Map<string, DesiredTenant>, batches: RolloutBatch[]): void {
  const redeploying = [...new Set(actions.filter(isRolled).map((a) => a.target.orgId))];
  const canaries = redeploying.filter((o) => declared.get(o)?.spec.canary === true);
  const rest = redeploying
    .filter((o) => declared.get(o)?.spec.canary !== true)
    .sort((a, b) => compareText(declared.get(a)?.spec.slug ?? '', declared.get(b)?.spec.slug ?? '') || compareText(a, b));
  const wave = new Map<string, number>(canaries.map((o) => [o, 0]));
  let next = 0;
  let waveNo = 1;
  for (const b of batches ?? []) {
    const remaining = rest.length - next;
    if (remaining <= 0) break;
    const size = batchSize(b, remaining);
    for (const o of rest.slice(next, next + size)) wave.set(o, waveNo);
    next += size;
    waveNo += 1;
  }
  for (const o of rest.slice(next)) wave.set(o, waveNo);
  for (const a of actions) if (isRolled(a)) a.wave = wave.get(a.target.orgId) ?? 0;
}

/** What rolls in waves: redeploys, both halves of replacements, and both halves of account moves. */
export function isRolled(a: Action): boolean {
  return a.kind === 'redeploy' || a.replacement === true || a.move !== undefined;
}

function batchSize(b: RolloutBatch, remaining: number): number {
  const raw = 'count' in b ? b.count : Math.ceil((remaining * b.percent) / 100);
  if (!Number.isFinite(raw)) return remaining;
  return Math.min(remaining, Math.max(1, Math.floor(raw)));
}
