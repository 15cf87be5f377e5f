/**
 * One mutating run, the way every command that changes the cloud records it: a `runs` row started
 * before the lease is taken, the work under the environment lease (renewed, released, reclaimed
 * from a dead holder), an outside abort recorded as `interrupted` before the process may end, and
 * a `finishRun` with the outcome however the work ends. apply, `sweep --delete`, `drift --fix` and
 * `import --adopt` all run through it, so an interruption, a refusal or a bug is recorded the same
 * way by each. The store is the caller's to close.
 */
import { randomUUID } from 'node:crypto';
import { ExitCode, TenantformError, tagRunId } from '../errors.js';
import { currentHolder, withLease, type AuditStore, type RunStatus } from '../store/index.js';
import { Interruption } from './interrupt.js';
import type { ProgressSink } from './ports.js';

export type FinishedStatus = Exclude<RunStatus, 'running'>;

export interface RunOutcome {
  code: number;
  status: FinishedStatus;
  summary: unknown;
}

export interface RecordedRunInput<T> {
  store: AuditStore;
  /** The `runs.command` value: `apply`, `sweep`, `drift --fix`, `import`. */
  command: string;
  environment: string;
  gitCommit: string | undefined;
  lockTtlMs: number;
  signal?: AbortSignal | undefined;
  progress: ProgressSink;
  /** The work, under the lease; `signal` is aborted on an outside abort or a lost lease. */
  work: (run: { runId: string; signal: AbortSignal }) => Promise<T>;
  /** How a finished piece of work ends the run. */
  outcome: (result: T) => RunOutcome;
  /** Fields added to a failed run's summary beside its error (apply adds the dirty tree). */
  failureSummary?: Record<string, unknown> | undefined;
}

export async function recordedRun<T>(input: RecordedRunInput<T>): Promise<{ result: T; runId: string }> {
  const { store, environment, progress } = input;
  const runId = randomUUID();
  const holder = currentHolder(runId);
  let ended: RunOutcome = { code: ExitCode.error, status: 'failed', summary: undefined };
  try {
    await store.startRun({ runId, command: input.command, environment, gitCommit: input.gitCommit, host: holder.host, pid: holder.pid });
    const result = await withLease(store, environment, holder, (signal) => input.work({ runId, signal }), {
      ttlMs: input.lockTtlMs,
      ...(input.signal ? { signal: input.signal } : {}),
      onReclaimed: (previous, reason) =>
        progress({
          kind: 'note',
          message: `reclaimed the lease of run ${previous.holder.runId} (pid ${previous.holder.pid} on ${previous.holder.host}): ${reason === 'expired' ? 'it expired' : 'that process is gone'}; the run is recorded as abandoned`,
        }),
      // The process may end as soon as this is recorded: before the `finally` below runs.
      onAbort: (reason) => store.finishRun({ runId, status: 'interrupted', exitCode: exitStatusOf(reason), summary: { error: messageOf(reason) } }),
      onAbortHandled: () => progress({ kind: 'interrupted' }),
    });
    ended = input.outcome(result);
    return { result, runId };
  } catch (e) {
    // Work stopped by an outside abort fails with whatever its own signal carried (the lease's
    // "hold lock" error, a cancelled call): the run is still the interruption, as onAbort recorded.
    const outside: unknown = input.signal?.aborted ? input.signal.reason : undefined;
    const cause = outside instanceof Interruption ? outside : e;
    const code = exitStatusOf(cause);
    ended = {
      code,
      status: cause instanceof Interruption ? 'interrupted' : code === ExitCode.refused ? 'refused' : 'failed',
      summary: { error: messageOf(cause), ...input.failureSummary },
    };
    // A bug reported by the CLI names the run it escaped from.
    tagRunId(e, runId);
    throw e;
  } finally {
    await store.finishRun({ runId, status: ended.status, exitCode: ended.code, summary: ended.summary });
  }
}

/** A status from an exit code: what the commands that return a code (rather than throw) record. */
export function statusOfCode(code: number): FinishedStatus {
  if (code === ExitCode.ok || code === ExitCode.changes) return 'succeeded';
  if (code === ExitCode.partial) return 'partial';
  if (code === ExitCode.refused) return 'refused';
  return 'failed';
}

/** Warnings for audit rows a recorder could not write (its `flush()` result). */
export function auditWriteWarnings(errors: readonly unknown[]): string[] {
  return errors.map((e) => `an audit row could not be written: ${e instanceof Error ? e.message : String(e)}`);
}

function messageOf(e: unknown): string {
  return e instanceof Interruption ? e.why : e instanceof Error ? e.message : String(e);
}

function exitStatusOf(e: unknown): number {
  return e instanceof Interruption ? e.exitStatus : e instanceof TenantformError ? e.exitCode : ExitCode.error;
}
