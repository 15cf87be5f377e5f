/**
 * The gate between rollout waves: with `settings.rollout.healthCheck`, every tenant of the wave
 * whose actions all succeeded is polled (health.ts) until healthy or its deadline; a tenant whose
 * check fails has its wave actions marked failed with what the check saw, so it counts in the
 * wave's failure ratio. A tenant that already failed is not checked (it counts already), nor one
 * declared stopped (its app is meant to be down). Tenants
 * are checked in parallel under the run's concurrency. Without a check, nothing happens.
 */
import type { HealthCheckResult } from '../changeset/model.js';
import type { Action, PlanSettings } from '../plan/model.js';
import { mapSettled } from '../rate/index.js';
import type { ActContext } from './context.js';
import { healthFailure, healthUrl, pollHealth } from './health.js';

export interface GateLedger {
  readonly ctx: ActContext;
  readonly concurrency: number;
  resultOf(a: Action): { status: string } | undefined;
  markHealthy(a: Action, check: HealthCheckResult): void;
  markUnhealthy(a: Action, check: HealthCheckResult, message: string): void;
}

/**
 * The number of tenants that failed the check; undefined when the plan has no health check.
 * `onStart` is told how many tenants are about to be polled (for live progress).
 */
export async function healthGate(
  run: GateLedger,
  actions: Action[],
  settings: PlanSettings | null,
  signal?: AbortSignal,
  onStart?: (tenants: number) => void,
): Promise<number | undefined> {
  const spec = settings?.rollout.healthCheck;
  if (!spec || !settings) return undefined;
  const byTenant = new Map<string, Action[]>();
  for (const a of actions) byTenant.set(a.target.orgId, [...(byTenant.get(a.target.orgId) ?? []), a]);
  const candidates = [...byTenant.values()].filter((group) => group.every((a) => run.resultOf(a)?.status === 'ok') && !group.some(declaredStopped));
  let unhealthy = 0;
  onStart?.(candidates.length);
  await mapSettled(candidates, run.concurrency, async (group) => {
    const t = group[0]!.target;
    const url = healthUrl(spec.url, { slug: t.slug, orgId: t.orgId, appDomain: settings.appDomain });
    const check = await pollHealth(url, spec, run.ctx.clock, signal);
    if (check.ok) {
      for (const a of group) run.markHealthy(a, check);
      return;
    }
    unhealthy += 1;
    const message = `${healthFailure(check)} (tenant ${t.slug})`;
    for (const a of group) run.markUnhealthy(a, check, message);
  });
  return unhealthy;
}

function declaredStopped(a: Action): boolean {
  return a.intent.kind === 'tenant' && a.intent.tenant.power === 'stopped';
}
