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
import type { ChangeSet } from '../apply/changeset.js';
import type { Diagnostic } from '../desired/diagnostics.js';
import { ExitCode } from '../errors.js';
import { unknownReplaceTargets } from '../plan/diff.js';
import type { Plan } from '../plan/model.js';
import type { ApplyInput } from './apply-input.js';
import { applyLocked } from './apply-locked.js';
import { localStoreWarning } from './ci-warning.js';
import { loadApplySource } from './apply-source.js';
import { noProgress } from './ports.js';
import { recordedRun } from './recorded-run.js';
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
  try {
    const { result, runId } = await recordedRun({
      store,
      command: 'apply',
      environment,
      gitCommit: gitCommit.commit,
      lockTtlMs: input.lockTtlMs,
      signal: input.signal,
      progress,
      failureSummary: gitCommit.dirty ? { dirtyTree: gitCommit.dirty } : undefined,
      work: async ({ runId, signal }) => {
        await input.onLocked?.();
        if (gitCommit.note) progress({ kind: 'note', message: gitCommit.note });
        return applyLocked({ input, progress, source, store, runId, signal, replace, gitCommit: gitCommit.commit });
      },
      outcome: (r) => ({
        code: r.code,
        status: r.status,
        summary: gitCommit.dirty ? { ...(r.summary as object), dirtyTree: gitCommit.dirty } : r.summary,
      }),
    });
    return { code: result.code, runId, ...(result.plan ? { plan: result.plan } : {}), ...(result.changeSet ? { changeSet: result.changeSet } : {}) };
  } finally {
    await store.close();
  }
}
