/**
 * The apply use case: read what it works from (apply-source.ts: a saved plan, the fleet
 * repository when at hand, the wiring), take the environment's lease, then under it
 * (apply-locked.ts) either re-check a saved plan against a fresh, scoped observation (refusing it
 * when the world moved) or plan afresh; refuse on a blocking guard; check the wiring against the
 * cloud; ask the caller's `confirm`; execute; record every resource event and the run in the
 * audit store. Nothing mutates before the lease, the staleness check, the guards and the
 * confirmation pass.
 *
 * It prints nothing (progress goes to the sink, the plan and change set come back in the result),
 * reads no process state, and installs no signal handler: an outside stop is `signal` aborting
 * (with an Interruption, whose exit status the run is recorded with). Predictable failures are
 * thrown as TenantformErrors (lock held, stale plan, guards: exit 3; bad input: exit 1), after the
 * run is recorded.
 */
import { randomUUID } from 'node:crypto';
import type { ChangeSet } from '../apply/changeset.js';
import type { Diagnostic } from '../desired/diagnostics.js';
import { ExitCode, TenantformError, tagRunId } from '../errors.js';
import { unknownReplaceTargets } from '../plan/diff.js';
import type { Plan } from '../plan/model.js';
import { currentHolder, withLease, type RunStatus } from '../store/index.js';
import type { ApplyInput } from './apply-input.js';
import { applyLocked } from './apply-locked.js';
import { localStoreWarning } from './ci-warning.js';
import { loadApplySource } from './apply-source.js';
import { Interruption } from './interrupt.js';
import { noProgress } from './ports.js';
import { parseReplace } from './replace.js';

export type { ApplyInput } from './apply-input.js';

export interface ApplyResult {
  code: number;
  /** Present when the fleet or the wiring was invalid (exit 1, nothing recorded). */
  diagnostics?: Diagnostic[];
  runId?: string;
  plan?: Plan;
  changeSet?: ChangeSet;
}

export async function applyFleet(input: ApplyInput): Promise<ApplyResult> {
  const progress = input.progress ?? noProgress;
  input.redactor.registerEnv(input.wiringEnv);
  const source = await loadApplySource(input, progress);
  if ('diagnostics' in source) return { code: ExitCode.error, diagnostics: source.diagnostics };
  const { desired, environment, gitCommit } = source;
  // A saved plan already says what it replaces (the CLI refuses --replace with one).
  const replace = desired ? parseReplace(input.replace, (r) => unknownReplaceTargets(desired, r)) : [];

  // Stopped before anything was recorded or held: nothing to record.
  input.signal?.throwIfAborted();
  const store = await input.openStore();
  const localWarning = localStoreWarning(store, input.repoDir, input.ci ?? false);
  if (localWarning) progress({ kind: 'warning', message: localWarning });
  const runId = randomUUID();
  const holder = currentHolder(runId);
  let code: number = ExitCode.error;
  let status: Exclude<RunStatus, 'running'> = 'failed';
  let summary: unknown;
  try {
    await store.startRun({ runId, command: 'apply', environment, gitCommit: gitCommit.commit, host: holder.host, pid: holder.pid });
    const result = await withLease(
      store,
      environment,
      holder,
      async (signal) => {
        await input.onLocked?.();
        if (gitCommit.note) progress({ kind: 'note', message: gitCommit.note });
        return applyLocked({ input, progress, source, store, runId, signal, replace, gitCommit: gitCommit.commit });
      },
      {
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
      },
    );
    code = result.code;
    status = result.status;
    summary = gitCommit.dirty ? { ...(result.summary as object), dirtyTree: gitCommit.dirty } : result.summary;
    return { code, runId, ...(result.plan ? { plan: result.plan } : {}), ...(result.changeSet ? { changeSet: result.changeSet } : {}) };
  } catch (e) {
    code = e instanceof Interruption ? e.exitStatus : e instanceof TenantformError ? e.exitCode : ExitCode.error;
    status = e instanceof Interruption ? 'interrupted' : code === ExitCode.refused ? 'refused' : 'failed';
    summary = { error: messageOf(e), ...(gitCommit.dirty ? { dirtyTree: gitCommit.dirty } : {}) };
    // A bug reported by the CLI names the run it escaped from.
    tagRunId(e, runId);
    throw e;
  } finally {
    try {
      await store.finishRun({ runId, status, exitCode: code, summary });
    } finally {
      await store.close();
    }
  }
}

function messageOf(e: unknown): string {
  return e instanceof Interruption ? e.why : e instanceof Error ? e.message : String(e);
}

function exitStatusOf(reason: unknown): number {
  return reason instanceof Interruption ? reason.exitStatus : ExitCode.error;
}
