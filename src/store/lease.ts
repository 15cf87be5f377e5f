/**
 * One apply at a time per environment. The lease has a time-to-live and is renewed while the
 * task runs, so a crashed holder's lease simply expires and the next run reclaims it; a live
 * holder keeps it for as long as it works. A holder on this host whose process is gone is known
 * dead, so its lease is reclaimed at once rather than at expiry. Either way the dead run is
 * recorded as abandoned. Released in `finally` and when the caller's AbortSignal fires (the CLI
 * aborts it on SIGINT/SIGTERM: signal handling is the process's business, not the lease's).
 */
import { hostname } from 'node:os';
import { GuardRefusal, TenantformError } from '../errors.js';
import type { Lease, LeaseHolder, LeaseStore, ReclaimReason } from './model.js';

export const DEFAULT_LEASE_TTL_MS = 60_000;

/** This process as a lease holder. */
export function currentHolder(runId: string, startedAt: Date = new Date()): LeaseHolder {
  return { host: hostname(), pid: process.pid, runId, startedAt: startedAt.toISOString() };
}

/**
 * True only when the holder ran on this host and no process has its pid any more (kill(pid, 0)
 * fails with ESRCH; EPERM means a process exists). A holder elsewhere, or whose pid is taken by
 * another process since, is not known dead: its lease is left to expire.
 */
export function holderProcessGone(holder: LeaseHolder, host: string = hostname()): boolean {
  // pid 0 and negative pids name process groups, not a process.
  if (holder.host !== host || !Number.isSafeInteger(holder.pid) || holder.pid <= 0) return false;
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** "run R (pid P on host H, started T; lease expires E)" — what a refused run is told. */
export function describeLease(lease: Lease): string {
  const h = lease.holder;
  return `run ${h.runId} (pid ${h.pid} on ${h.host}, started ${h.startedAt}; lease expires ${new Date(lease.expiresAt).toISOString()})`;
}

export interface WithLeaseOptions {
  ttlMs?: number;
  /** Default: a third of the TTL, so two renewals can fail before the lease lapses. */
  renewEveryMs?: number;
  /**
   * Stops the run from outside (the CLI turns SIGINT/SIGTERM into this): the task's signal is
   * aborted too, renewal stops, `onAbort` runs, then the lease is released and `onAbortHandled`
   * called. withLease installs no signal handler of its own.
   */
  signal?: AbortSignal;
  /**
   * Runs on an outside abort before the lease is released, so the caller can record how its run
   * ended (a process about to die runs no `finally` of the task). Its failure is ignored.
   */
  onAbort?: (reason: unknown) => unknown;
  /** Called once an outside abort has been recorded and the lease released: the process may end now. */
  onAbortHandled?: () => void;
  /** Called when a renewal finds the lease taken by someone else; the task's signal is aborted too. */
  onLost?: (current: Lease | undefined) => void;
  /** Called when a renewal fails (e.g. the database is busy); the next interval retries. */
  onRenewError?: (error: unknown) => void;
  /** Called when the lease was taken from a dead holder (whose run is now recorded as abandoned). */
  onReclaimed?: (previous: Lease, reason: ReclaimReason) => void;
  /** Whether a live lease's holder is known dead; default holderProcessGone. */
  holderGone?: (holder: LeaseHolder) => boolean;
}

/**
 * Runs `task` while holding the environment's lease. Throws GuardRefusal (exit 3) naming the
 * holder when another live run has it. The task gets an AbortSignal that fires when the lease is
 * lost or the caller's signal aborts, so it can stop starting new work.
 */
export async function withLease<T>(
  leases: LeaseStore,
  environment: string,
  holder: LeaseHolder,
  task: (signal: AbortSignal) => Promise<T>,
  opts: WithLeaseOptions = {},
): Promise<T> {
  const ttlMs = opts.ttlMs ?? DEFAULT_LEASE_TTL_MS;
  const result = await leases.acquireLease(environment, holder, ttlMs, { holderGone: opts.holderGone ?? ((h) => holderProcessGone(h)) });
  if (!result.acquired) {
    throw new GuardRefusal(`held by ${describeLease(result.current)}; ${result.reclaimHint ?? 'it can be reclaimed once it expires if that run crashed'}`, {
      operation: 'lock',
      resource: `environment ${environment}`,
    });
  }
  if (result.reclaimed) opts.onReclaimed?.(result.reclaimed, result.reclaimed.reason);

  const controller = new AbortController();
  let renewing = false;
  const timer = setInterval(
    () => {
      if (renewing || controller.signal.aborted) return;
      renewing = true;
      leases
        .renewLease(environment, holder, ttlMs)
        .then(async (held) => {
          if (held) return;
          const current = await leases.currentLease(environment);
          controller.abort(
            new TenantformError(`lease lost${current ? ` to ${describeLease(current)}` : ''}`, { operation: 'renew lock', resource: `environment ${environment}` }),
          );
          opts.onLost?.(current);
        })
        .catch((error: unknown) => opts.onRenewError?.(error))
        .finally(() => (renewing = false));
    },
    opts.renewEveryMs ?? Math.max(1, Math.floor(ttlMs / 3)),
  );
  // A pending renewal must not keep a finished CLI alive.
  timer.unref();

  const outside = opts.signal;
  const onOutsideAbort = () => {
    const reason: unknown = outside?.reason;
    // An Interruption (src/app/interrupt.ts) says `why` on its own; any other reason by its message.
    const why = (reason as { why?: unknown } | undefined)?.why;
    const detail = typeof why === 'string' ? why : reason instanceof Error ? reason.message : String(reason);
    controller.abort(new TenantformError(detail, { operation: 'hold lock', resource: `environment ${environment}` }));
    clearInterval(timer);
    void Promise.resolve()
      .then(() => opts.onAbort?.(reason))
      .catch(() => undefined)
      .then(() => leases.releaseLease(environment, holder))
      .catch(() => undefined)
      .finally(() => opts.onAbortHandled?.());
  };
  const removeAbortListener = () => outside?.removeEventListener('abort', onOutsideAbort);
  if (outside?.aborted) onOutsideAbort();
  else outside?.addEventListener('abort', onOutsideAbort, { once: true });

  let taskFailed = true;
  try {
    const value = await task(controller.signal);
    taskFailed = false;
    return value;
  } finally {
    clearInterval(timer);
    removeAbortListener();
    try {
      await leases.releaseLease(environment, holder);
    } catch (error) {
      // The task's own failure matters more; an unreleased lease lapses after its TTL anyway.
      // eslint-disable-next-line no-unsafe-finally -- on purpose: a release failure surfaces only after the task succeeded
      if (!taskFailed) throw error;
    }
  }
}
