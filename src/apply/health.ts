/**
 * The rollout's health gate: after a wave, each of its tenants' health URL (fleet.yaml's
 * `rollout.healthCheck.url`, a template) is polled with an HTTP GET until it answers 2xx or the
 * deadline passes. What the check saw (the last status code or network error, the attempts) goes
 * into the change set; the response body is never read into it, and the URL comes from
 * fleet.yaml (which holds no secret) — the executor still passes both through the redactor.
 *
 * Time is the act context's clock (deadline and pauses), so a virtual clock drives the polling in
 * tests; each attempt's own request timeout is real time (a socket cannot run on a virtual clock).
 */
import type { HealthCheckResult } from '../changeset/model.js';
import type { HealthCheckSpec } from '../desired/model.js';
import type { Clock } from '../rate/index.js';

/** Per-attempt request timeout floor: a slow but healthy tenant is not an error. */
const MIN_ATTEMPT_TIMEOUT_MS = 5_000;

export interface HealthVars {
  slug: string;
  orgId: string;
  appDomain: string;
}

/** The template with {slug}, {orgId} and {appDomain} replaced (each URL-encoded). */
export function healthUrl(template: string, vars: HealthVars): string {
  return template.replace(/\{(slug|orgId|appDomain)\}/g, (_m, key: keyof HealthVars) => encodeURIComponent(vars[key]));
}

export async function pollHealth(url: string, spec: HealthCheckSpec, clock: Clock, signal?: AbortSignal): Promise<HealthCheckResult> {
  const started = clock.now();
  const deadline = started + spec.timeoutSeconds * 1000;
  const attemptTimeout = Math.max(MIN_ATTEMPT_TIMEOUT_MS, spec.intervalSeconds * 1000);
  let attempts = 0;
  let last: { status?: number; error?: string };
  for (;;) {
    attempts += 1;
    last = await attempt(url, attemptTimeout, signal);
    if (last.status !== undefined && last.status >= 200 && last.status < 300) {
      return { url, ok: true, attempts, status: last.status, elapsedMs: clock.now() - started };
    }
    if (signal?.aborted || clock.now() + spec.intervalSeconds * 1000 > deadline) break;
    await clock.sleep(spec.intervalSeconds * 1000);
  }
  return { url, ok: false, attempts, ...last, elapsedMs: clock.now() - started };
}

async function attempt(url: string, timeoutMs: number, outer: AbortSignal | undefined): Promise<{ status?: number; error?: string }> {
  const signals = [AbortSignal.timeout(timeoutMs), ...(outer ? [outer] : [])];
  try {
    // A redirect is an answer of its own (a login page is not health): not followed.
    const res = await fetch(url, { method: 'GET', redirect: 'manual', signal: AbortSignal.any(signals), headers: { accept: '*/*' } });
    // The body is not wanted; release the connection.
    await res.body?.cancel().catch(() => undefined);
    return { status: res.status };
  } catch (e) {
    return { error: describeFetchError(e, timeoutMs) };
  }
}

function describeFetchError(e: unknown, timeoutMs: number): string {
  if (e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError'))
    return e.name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : 'aborted';
  const cause = e instanceof Error ? (e.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (cause && typeof cause.code === 'string') return cause.code;
  if (cause && typeof cause.message === 'string') return cause.message;
  return e instanceof Error ? e.message : String(e);
}

/** One line for the change set's error: what the check saw last. */
export function healthFailure(r: HealthCheckResult): string {
  const saw = r.status !== undefined ? `HTTP ${r.status}` : (r.error ?? 'no answer');
  return `health check ${r.url} failed after ${r.attempts} attempt${r.attempts === 1 ? '' : 's'} (${Math.round(r.elapsedMs / 1000)} s): last saw ${saw}`;
}
