/**
 * `import --adopt` as a recorded, leased run, as apply and sweep are: the run is started in the
 * audit store, the environment's lease is held from before the control plane is observed until
 * the last step (so an adoption never runs beside an apply or a sweep: a held lease is a
 * GuardRefusal, exit 3, naming its holder, before any call), and every adoption step becomes a
 * `tenant_resources` row under the run's id and the fleet commit: `adopted` for what was stamped,
 * renamed, commented or copied, `failed` (with the redacted error) for the step that failed. Rows
 * name resources and tag keys, never a bundle value.
 */
import { AuditRecorder } from '../apply/audit-recorder.js';
import type { AdoptionStep } from '../apply/import-adopt.js';
import type { DesiredState } from '../desired/model.js';
import { InternalError } from '../errors.js';
import { describeStep } from '../import/steps.js';
import type { AuditResourceKind, AuditStore } from '../store/index.js';
import { noProgress } from './ports.js';
import { auditWriteWarnings, recordedRun, statusOfCode } from './recorded-run.js';

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
  try {
    const slugs = new Map(desired.tenants.map((t) => [t.spec.orgId, t.spec.slug]));
    let writeErrors: unknown[] = [];
    const { result, runId } = await recordedRun({
      store,
      command: 'import',
      environment,
      gitCommit: desired.commit,
      lockTtlMs: input.lockTtlMs ?? DEFAULT_IMPORT_LOCK_TTL_MS,
      progress: noProgress,
      work: async ({ runId }) => {
        const recorder = new AuditRecorder({ store, runId, environment, gitCommit: desired.commit, slugOf: (orgId) => slugs.get(orgId) ?? orgId });
        try {
          return await work((step, error) => recordStep(recorder, step, error));
        } finally {
          writeErrors = await recorder.flush();
        }
      },
      outcome: (r) => ({ code: r.code, status: statusOfCode(r.code), summary: { adopted: r.adoption?.applied ?? 0 } }),
    });
    return { ...result, runId, auditWarnings: auditWriteWarnings(writeErrors) };
  } finally {
    await store.close();
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
