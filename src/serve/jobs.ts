/**
 * One scheduled job of `tenantform serve`: the app-layer use case with explicit inputs (never
 * process state), turned into an outcome the scheduler counts and the web view shows. plan,
 * drift and sweep (a dry run) are read-only; apply runs with auto-approve and takes the
 * environment's lease itself (src/app/apply.ts), so it never runs while a CI apply does.
 */
import type { ChangeSet } from '../apply/changeset.js';
import { applyFleet } from '../app/apply.js';
import { driftFleet } from '../app/drift.js';
import { Interruption } from '../app/interrupt.js';
import { planFleet } from '../app/plan.js';
import type { CloudSessionFactory, ProgressSink, WiringEnv } from '../app/ports.js';
import { sweepFleet } from '../app/sweep.js';
import type { DesiredState, ScheduledJob } from '../desired/model.js';
import { driftExitCode, type DriftResult } from '../drift/model.js';
import { ExitCode, TenantformError } from '../errors.js';
import type { Inventory } from '../live/model.js';
import { planExitCode } from '../plan/exit-code.js';
import type { Plan } from '../plan/model.js';
import type { Redactor } from '../redact.js';
import { deepCheckStoreOf } from '../store/deep-checks.js';
import type { AuditStore } from '../store/index.js';
import type { SweepReport } from '../sweep/model.js';

export type JobResult = 'ok' | 'changes' | 'refused' | 'failed' | 'interrupted';

export interface JobOutcome {
  job: ScheduledJob;
  result: JobResult;
  exitCode: number;
  /** The fleet commit the job ran against. */
  commit: string | undefined;
  startedAt: string;
  finishedAt: string;
  /** Why it failed or was refused (already redacted). */
  message?: string;
  runId?: string;
  desired?: DesiredState;
  inventory?: Inventory;
  plan?: Plan;
  changeSet?: ChangeSet;
  drift?: DriftResult;
  sweep?: SweepReport;
}

export interface JobDeps {
  repoDir: string;
  wiringEnv: WiringEnv;
  clients: CloudSessionFactory;
  openStore: () => Promise<AuditStore>;
  redactor: Redactor;
  lockTtlMs: number;
  /** Sweep's --min-age for the dry run's "deletable" count. */
  sweepMinAgeMs: number;
  progress?: ProgressSink;
  /** Apply only: called with true once the lease is held and false when the job ends. */
  onLease?: (held: boolean) => void;
}

type Body = Omit<JobOutcome, 'job' | 'commit' | 'startedAt' | 'finishedAt'>;

export async function runJob(job: ScheduledJob, commit: string | undefined, deps: JobDeps, signal: AbortSignal, now: () => Date = () => new Date()): Promise<JobOutcome> {
  const startedAt = now().toISOString();
  let body: Body;
  try {
    body = await runBody(job, deps, signal);
    // Stopped from outside but returned (apply settles what was in flight and reports it): say so.
    if (signal.aborted && body.result !== 'ok') body = { ...body, result: 'interrupted', message: deps.redactor.redact(describeReason(signal.reason)) };
  } catch (e) {
    const exitCode = e instanceof Interruption ? e.exitStatus : e instanceof TenantformError ? e.exitCode : ExitCode.error;
    const result: JobResult = e instanceof Interruption ? 'interrupted' : exitCode === ExitCode.refused ? 'refused' : 'failed';
    body = { result, exitCode, message: deps.redactor.redact(e instanceof Error ? e.message : String(e)) };
  } finally {
    if (job === 'apply') deps.onLease?.(false);
  }
  return { job, commit, startedAt, finishedAt: now().toISOString(), ...body };
}

function describeReason(reason: unknown): string {
  return reason instanceof Interruption ? reason.why : reason instanceof Error ? reason.message : String(reason);
}

function byCode(exitCode: number): JobResult {
  return exitCode === ExitCode.ok ? 'ok' : exitCode === ExitCode.changes ? 'changes' : exitCode === ExitCode.refused ? 'refused' : 'failed';
}

function invalid(diagnostics: { severity: string; file: string; line: number; message: string }[]): Body {
  const errors = diagnostics.filter((d) => d.severity === 'error');
  const message = errors.map((d) => `${d.file}:${d.line}: ${d.message}`).join('\n') || 'the fleet or the wiring is invalid';
  return { result: 'failed', exitCode: ExitCode.error, message };
}

async function runBody(job: ScheduledJob, deps: JobDeps, signal: AbortSignal): Promise<Body> {
  const common = { repoDir: deps.repoDir, wiringEnv: deps.wiringEnv, clients: deps.clients, redactor: deps.redactor, signal };
  const progress = deps.progress ?? (() => undefined);
  switch (job) {
    case 'plan': {
      const run = await planFleet(common);
      if (!run.ok) return invalid(run.diagnostics);
      const exitCode = planExitCode(run.plan);
      return { result: byCode(exitCode), exitCode, plan: run.plan, desired: run.desired, inventory: run.inventory };
    }
    case 'drift': {
      const run = await driftFleet({ ...common, progress, openStore: async () => deepCheckStoreOf(await deps.openStore()) });
      if (!run.ok) return invalid(run.diagnostics);
      const exitCode = driftExitCode(run.result);
      return {
        result: exitCode === ExitCode.ok ? 'ok' : exitCode === ExitCode.changes ? 'changes' : 'failed',
        exitCode,
        drift: run.result,
        desired: run.desired,
        inventory: run.inventory,
      };
    }
    case 'sweep': {
      const run = await sweepFleet({ ...common, progress, openStore: deps.openStore, delete: false, minAgeMs: deps.sweepMinAgeMs, lockTtlMs: deps.lockTtlMs });
      if (run.diagnostics) return invalid(run.diagnostics);
      return { result: byCode(run.code), exitCode: run.code, ...(run.report ? { sweep: run.report } : {}), ...(run.runId ? { runId: run.runId } : {}) };
    }
    case 'apply': {
      const run = await applyFleet({
        ...common,
        progress,
        openStore: deps.openStore,
        confirm: () => Promise.resolve(true),
        allow: {},
        lockTtlMs: deps.lockTtlMs,
        onLocked: () => deps.onLease?.(true),
      });
      if (run.diagnostics) return invalid(run.diagnostics);
      const result: JobResult = run.code === ExitCode.ok ? 'ok' : run.code === ExitCode.refused ? 'refused' : 'failed';
      return {
        result,
        exitCode: run.code,
        ...(run.runId ? { runId: run.runId } : {}),
        ...(run.plan ? { plan: run.plan } : {}),
        ...(run.changeSet ? { changeSet: run.changeSet } : {}),
      };
    }
  }
}
