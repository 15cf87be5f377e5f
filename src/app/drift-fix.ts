/**
 * `drift --fix`: the repairs run as an audited run under the environment lease (the same lock
 * apply takes, so neither runs while the other does), through the run's rate gate, with every
 * change an audit row; then the environment is observed again with the same deep checks, to
 * show what is left. Nothing is deleted (src/apply/drift-fix.ts).
 */
import { AuditRecorder } from '../apply/audit-recorder.js';
import { actAccounts } from './accounts.js';
import { deadlinesFor, provisionWiring, systemClock, type ActContext } from '../apply/context.js';
import { repairDrift, type FixLookup } from '../apply/drift-fix.js';
import type { Wiring } from '../config/env.js';
import { tunnelName } from '../contract.js';
import type { DesiredState } from '../desired/model.js';
import type { FixOutcome } from '../drift/model.js';
import { ExitCode } from '../errors.js';
import type { Clock } from '../rate/index.js';
import type { AuditStore } from '../store/index.js';
import { inspect, type Inspection } from './drift-inspect.js';
import { auditWriteWarnings, recordedRun, statusOfCode } from './recorded-run.js';
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
  try {
    const { result, runId } = await recordedRun({
      store,
      command: 'drift --fix',
      environment,
      gitCommit: desired.commit,
      lockTtlMs: f.lockTtlMs,
      signal: f.input.signal,
      progress: f.progress,
      work: async ({ runId }) => {
        const recorder = new AuditRecorder({ store, runId, environment, gitCommit: desired.commit, slugOf: slugIndex(desired) });
        const ctx: ActContext = {
          wiring: provisionWiring(f.wiring),
          fleet: desired.fleet,
          aws: session.aws,
          cloudflare: session.cloudflare,
          call: session.gate,
          ...(session.canary ? { accounts: actAccounts(session, f.wiring, { aws: session.aws, call: session.gate, wiring: provisionWiring(f.wiring) }) } : {}),
          warn: (m) => f.progress({ kind: 'warning', message: m }),
          redactor: f.input.redactor,
          gitCommit: desired.commit,
          clock: f.clock ?? systemClock,
          deadlines: deadlinesFor(desired.fleet),
          audit: recorder.event,
        };
        const outcomes = await repairDrift(ctx, f.before.findings, lookupFor(desired, f.before));
        for (const message of auditWriteWarnings(await recorder.flush())) f.progress({ kind: 'warning', message });
        return outcomes;
      },
      outcome: (outcomes) => {
        const failed = outcomes.filter((o) => o.status === 'failed').length;
        const fixed = outcomes.filter((o) => o.status === 'fixed').length;
        const code = failed > 0 ? ExitCode.partial : ExitCode.ok;
        return {
          code,
          status: statusOfCode(code),
          summary: { fixed, failed, left: outcomes.length - fixed - failed },
        };
      },
    });
    const after = await inspect({ session, desired, wiring: f.wiring, env: f.input.wiringEnv, chooseDeep: () => Promise.resolve(f.before.deepChecked) });
    return { runId, outcomes: result, after };
  } finally {
    await store.close();
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
