/**
 * `drift --fix`: the repairs run as an audited run under the environment lease (the same lock
 * apply takes, so neither runs while the other does), through the run's rate gate, with every
 * change an audit row; then the environment is observed again with the same deep checks, to
 * show what is left. Nothing is deleted (src/apply/drift-fix.ts).
 */
import { randomUUID } from 'node:crypto';
import { AuditRecorder } from '../apply/audit-recorder.js';
import { deadlinesFor, provisionWiring, systemClock, type ActContext } from '../apply/context.js';
import { repairDrift, type FixLookup } from '../apply/drift-fix.js';
import type { Wiring } from '../config/env.js';
import { tunnelName } from '../contract.js';
import type { DesiredState } from '../desired/model.js';
import type { FixOutcome } from '../drift/model.js';
import { ExitCode, TenantformError } from '../errors.js';
import type { Clock } from '../rate/index.js';
import { currentHolder, withLease, type AuditStore, type RunStatus } from '../store/index.js';
import { inspect, type Inspection } from './drift-inspect.js';
import type { CloudSession, ProgressSink, WiringEnv } from './ports.js';
import type { Redactor } from '../redact.js';

export interface FixInput {
  openAuditStore: () => AuditStore | Promise<AuditStore>;
  lockTtlMs: number;
  clock?: Clock;
  input: { wiringEnv: WiringEnv; redactor: Redactor; signal?: AbortSignal };
  desired: DesiredState;
  wiring: Wiring;
  session: CloudSession;
  before: Inspection & { deepChecked: ReadonlyArray<{ orgId: string; slug: string }> };
  progress: ProgressSink;
}

export async function fixDrift(f: FixInput): Promise<{ runId: string; outcomes: FixOutcome[]; after: Inspection }> {
  const { desired, session } = f;
  const environment = desired.fleet.environment;
  const store = await f.openAuditStore();
  const runId = randomUUID();
  const holder = currentHolder(runId);
  let status: Exclude<RunStatus, 'running'> = 'failed';
  let code: number = ExitCode.error;
  let summary: unknown;
  try {
    await store.startRun({ runId, command: 'drift --fix', environment, gitCommit: desired.commit, host: holder.host, pid: holder.pid });
    const result = await withLease(
      store,
      environment,
      holder,
      async () => {
        const recorder = new AuditRecorder({ store, runId, environment, gitCommit: desired.commit, slugOf: slugIndex(desired) });
        const ctx: ActContext = {
          wiring: provisionWiring(f.wiring),
          fleet: desired.fleet,
          aws: session.aws,
          cloudflare: session.cloudflare,
          call: session.gate,
          warn: (m) => f.progress({ kind: 'warning', message: m }),
          redactor: f.input.redactor,
          gitCommit: desired.commit,
          clock: f.clock ?? systemClock,
          deadlines: deadlinesFor(desired.fleet),
          audit: recorder.event,
        };
        const outcomes = await repairDrift(ctx, f.before.findings, lookupFor(desired, f.before));
        for (const e of await recorder.flush())
          f.progress({ kind: 'warning', message: `an audit row could not be written: ${e instanceof Error ? e.message : String(e)}` });
        return outcomes;
      },
      { ttlMs: f.lockTtlMs, ...(f.input.signal ? { signal: f.input.signal } : {}) },
    );
    const failed = result.filter((o) => o.status === 'failed').length;
    status = failed > 0 ? 'partial' : 'succeeded';
    code = failed > 0 ? ExitCode.partial : ExitCode.ok;
    summary = { fixed: result.filter((o) => o.status === 'fixed').length, failed, left: result.filter((o) => o.status !== 'fixed' && o.status !== 'failed').length };
    const after = await inspect({ session, desired, wiring: f.wiring, env: f.input.wiringEnv, chooseDeep: () => Promise.resolve(f.before.deepChecked) });
    return { runId, outcomes: result, after };
  } catch (e) {
    code = e instanceof TenantformError ? e.exitCode : ExitCode.error;
    status = code === ExitCode.refused ? 'refused' : 'failed';
    summary = { error: e instanceof Error ? e.message : String(e) };
    throw e;
  } finally {
    try {
      await store.finishRun({ runId, status, exitCode: code, summary });
    } finally {
      await store.close();
    }
  }
}

function slugIndex(desired: DesiredState): (orgId: string) => string {
  const slugs = new Map(desired.tenants.map((t) => [t.spec.orgId, t.spec.slug]));
  return (orgId) => slugs.get(orgId) ?? '';
}

function lookupFor(desired: DesiredState, seen: Inspection): FixLookup {
  const env = desired.fleet.environment;
  const tenants = new Map(desired.tenants.map((t) => [t.spec.orgId, t]));
  return {
    tunnelId: (orgId) => {
      const t = tenants.get(orgId);
      return t ? seen.inventory.tenants[orgId]?.tunnels.find((x) => x.name === tunnelName(env, t.spec.slug, orgId))?.id : undefined;
    },
    workspaceId: (orgId, name) => tenants.get(orgId)?.workspaces.find((w) => w.spec.name === name)?.spec.id,
    declared: (orgId, name) => {
      const t = tenants.get(orgId);
      if (!t) return undefined;
      if (name === undefined) return { instanceType: t.effective.instanceType };
      const w = t.workspaces.find((x) => x.spec.name === name);
      return w ? { instanceType: w.effective.instanceType, tier: w.effective.tier } : undefined;
    },
  };
}
