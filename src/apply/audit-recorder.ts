/**
 * Act-step audit events → `tenant_resources` rows. The store knows five states (created only for
 * what this run made; adopted; updated; deleted; failed); the act step's own, finer word goes
 * into the row's details as `event`. The mapping is on the typed state alone:
 * - created → created; adopted, restored (a secret taken back from its deletion) → adopted;
 * - updated, started, stopped, resized → updated;
 * - absent → deleted; rolledBack → deleted, with the failure that caused it;
 * - SSM commands → a row on the instance they ran on (updated when it succeeded, else failed).
 * Rows are written in order through one promise chain; a failing write never stops the apply,
 * it is reported at the end.
 */
import type { AuditResourceKind, AuditStore, ResourceState } from '../store/model.js';
import type { ActionResult } from './changeset.js';
import type { AuditEvent } from './context.js';
import { InternalError } from '../errors.js';
import { KINDS, kindOfOperation } from '../kinds.js';

export interface AuditRecorderOptions {
  store: AuditStore;
  runId: string;
  environment: string;
  gitCommit: string | undefined;
  /** The slug rows are filed under, by org id (from the plan's targets). */
  slugOf: (orgId: string) => string;
}

export class AuditRecorder {
  private chain: Promise<void> = Promise.resolve();
  private readonly errors: unknown[] = [];

  constructor(private readonly opts: AuditRecorderOptions) {}

  /** Suitable as ActContext.audit. */
  readonly event = (e: AuditEvent): void => {
    const row = toRow(e);
    this.write(row.kind, row.resourceId, e.orgId, e.workspaceId, row.state, row.details);
  };

  /** A row for an action that failed, naming the resource kind its error points at. */
  failure(result: ActionResult): void {
    if (result.status !== 'failed') return;
    const t = result.target;
    this.write(kindOfFailure(result.failedOperation), result.actionId, t.orgId, t.workspaceId, 'failed', {
      event: 'actionFailed',
      action: result.kind,
      error: result.error ?? '',
    });
  }

  /** A row written as given (import --adopt's steps, which are no act-step events). */
  resource(kind: AuditResourceKind, resourceId: string, orgId: string, workspaceId: string | undefined, state: ResourceState, details: Record<string, unknown>): void {
    this.write(kind, resourceId, orgId, workspaceId, state, details);
  }

  /** Waits for every queued row; returns the write errors (empty when all landed). */
  async flush(): Promise<unknown[]> {
    await this.chain;
    return [...this.errors];
  }

  private write(
    kind: AuditResourceKind,
    resourceId: string,
    orgId: string,
    workspaceId: string | undefined,
    state: ResourceState,
    details: Record<string, unknown>,
  ): void {
    const { store, runId, environment, gitCommit, slugOf } = this.opts;
    this.chain = this.chain
      .then(() => store.recordResource({ runId, environment, kind, resourceId, orgId, workspaceId, slug: slugOf(orgId), state, gitCommit, details }))
      .then(
        () => undefined,
        (error: unknown) => void this.errors.push(error),
      );
  }
}

function toRow(e: AuditEvent): { kind: AuditResourceKind; resourceId: string; state: ResourceState; details: Record<string, unknown> } {
  const details: Record<string, unknown> = { event: e.state, ...e.details };
  if (e.kind === 'command') {
    const instanceId = typeof e.details?.instanceId === 'string' && e.details.instanceId !== '' ? e.details.instanceId : e.resourceId;
    return {
      kind: KINDS.command.storedAs,
      resourceId: instanceId,
      state: e.state === 'succeeded' ? 'updated' : 'failed',
      details: { ...details, event: 'command', commandId: e.resourceId, outcome: e.state },
    };
  }
  const kind: AuditResourceKind = KINDS[e.kind].storedAs;
  const row = (state: ResourceState, extra: Record<string, unknown> = {}) => ({
    kind,
    resourceId: e.resourceId,
    state,
    details: { ...details, ...extra },
  });
  switch (e.state) {
    case 'created':
    case 'adopted':
    case 'deleted':
    case 'failed':
      return row(e.state);
    case 'restored':
      return row('adopted');
    case 'updated':
    case 'started':
    case 'stopped':
    case 'resized':
    case 'succeeded':
      return row('updated');
    case 'absent':
      return row('deleted');
    case 'rolledBack':
      return row('deleted', { failure: 'rolled back after a failed create' });
    default: {
      const unknown: never = e.state;
      throw new InternalError(`unknown audit state ${String(unknown)}`, { operation: 'classify audit event', resource: `${e.kind} ${e.resourceId}` });
    }
  }
}

/**
 * The resource kind a failed operation acted on, from the operation alone (an AWS action or a
 * Cloudflare operation name) — never from the message, which holds slugs and ids that can read
 * like anything ("secret-labs"). The operation is looked up in the kind registry's explicit
 * operation lists (src/kinds.ts), and filed under that kind's stored kind (a command's failure
 * goes on the instance). Operations no kind lists (CreateTags, the wiring checks) file the failure on the instance.
 */
function kindOfFailure(operation: string | undefined): AuditResourceKind {
  const kind = operation === undefined ? undefined : kindOfOperation(operation);
  return (kind && KINDS[kind].storedAs) ?? 'instance';
}
