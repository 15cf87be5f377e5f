/**
 * `import --adopt` as a recorded, leased run, as apply and sweep are: the run is started in the
 * audit store, the environment's lease is held from before the control plane is observed until
 * the last step (so an adoption never runs beside an apply or a sweep: a held lease is a
 * GuardRefusal, exit 3, naming its holder, before any call), and every adoption step becomes a
 * `tenant_resources` row under the run's id and the fleet commit: `adopted` for what was stamped,
 * renamed, commented or copied, `failed` (with the redacted error) for the step that failed. Rows
 * name resources and tag keys, never a bundle value.
 */
import { randomUUID } from 'node:crypto';
import { AuditRecorder } from '../apply/audit-recorder.js';
import type { AdoptionStep } from '../apply/import-adopt.js';
import type { DesiredState } from '../desired/model.js';
import { ExitCode, InternalError, TenantformError, tagRunId } from '../errors.js';
import { describeStep } from '../import/steps.js';
import { currentHolder, withLease, type AuditResourceKind, type AuditStore, type RunStatus } from '../store/index.js';

export const DEFAULT_IMPORT_LOCK_TTL_MS = 60_000;

/** Records one settled step; `error` is already redacted. */
export type StepAudit = (step: AdoptionStep, error?: string) => void;

export interface LockedImportInput {
  openStore?: (() => AuditStore | Promise<AuditStore>) | undefined;
  lockTtlMs?: number | undefined;
}

export async function adoptLocked<T extends { code: number; adoption?: { applied: number } | undefined }>(
  input: LockedImportInput,
  desired: DesiredState,
  work: (audit: StepAudit) => Promise<T>,
): Promise<T & { runId: string; auditWarnings: string[] }> {
  if (!input.openStore) throw new InternalError('import --adopt needs the audit store', { operation: 'import --adopt', resource: 'audit store' });
  const environment = desired.fleet.environment;
  const store = await input.openStore();
  const runId = randomUUID();
  const holder = currentHolder(runId);
  let code: number = ExitCode.error;
  let status: Exclude<RunStatus, 'running'> = 'failed';
  let summary: unknown;
  try {
    await store.startRun({ runId, command: 'import', environment, gitCommit: desired.commit, host: holder.host, pid: holder.pid });
    const slugs = new Map(desired.tenants.map((t) => [t.spec.orgId, t.spec.slug]));
    const recorder = new AuditRecorder({ store, runId, environment, gitCommit: desired.commit, slugOf: (orgId) => slugs.get(orgId) ?? orgId });
    let writeErrors: unknown[] = [];
    const result = await withLease(
      store,
      environment,
      holder,
      async () => {
        try {
          return await work((step, error) => recordStep(recorder, step, error));
        } finally {
          writeErrors = await recorder.flush();
        }
      },
      { ttlMs: input.lockTtlMs ?? DEFAULT_IMPORT_LOCK_TTL_MS },
    );
    const auditWarnings = writeErrors.map((e) => `an audit row could not be written: ${e instanceof Error ? e.message : String(e)}`);
    code = result.code;
    status = code === ExitCode.ok ? 'succeeded' : code === ExitCode.partial ? 'partial' : code === ExitCode.refused ? 'refused' : 'failed';
    summary = { adopted: result.adoption?.applied ?? 0 };
    return { ...result, runId, auditWarnings };
  } catch (e) {
    code = e instanceof TenantformError ? e.exitCode : ExitCode.error;
    status = code === ExitCode.refused ? 'refused' : 'failed';
    summary = { error: e instanceof Error ? e.message : String(e) };
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

function recordStep(recorder: AuditRecorder, s: AdoptionStep, error: string | undefined): void {
  const state = error === undefined ? 'adopted' : 'failed';
  const details: Record<string, unknown> = { event: `adopt:${s.kind}`, step: describeStep(s), ...(error === undefined ? {} : { error }) };
  const row = (kind: AuditResourceKind, id: string, workspaceId?: string) => recorder.resource(kind, id, s.orgId, workspaceId, state, details);
  switch (s.kind) {
    case 'tags':
      // A root volume has no stored kind: its row is on the instance it belongs to.
      if (s.resource === 'volume') return row('instance', s.instanceId ?? s.id, s.workspaceId);
      return row(s.resource, s.id, s.workspaceId);
    case 'secretTags':
      return row('secret', s.name);
    case 'copyBundle':
      return row('secret', s.to);
    case 'renameTunnel':
      return row('tunnel', s.id);
    case 'dnsComment':
      return row('dnsRecord', s.id);
  }
}
