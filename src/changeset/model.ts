/**
 * The change set: what apply did, per plan action and per live resource. Plain JSON so it can be
 * stored in the run's summary, printed with --json and rendered for people by src/render. Errors
 * in it have been through the redactor before they get here. It lives outside src/apply so that
 * src/render (and later drift/serve) can read it without depending on the act side; the audit
 * vocabulary it is written in (AuditKind, AuditState) lives here for the same reason.
 */
import type { Account } from '../accounts.js';
import type { AuditKind } from '../kinds.js';
import type { ActionKind, ActionTarget } from '../plan/model.js';

export const CHANGESET_FORMAT_VERSION = 1;

/** What act steps report events on: the audited kinds of src/kinds.ts. */
export type { AuditKind } from '../kinds.js';
export type AuditState =
  'created' | 'adopted' | 'updated' | 'restored' | 'deleted' | 'absent' | 'failed' | 'rolledBack' | 'stopped' | 'started' | 'resized' | 'succeeded';

export type ResultStatus = 'ok' | 'failed' | 'skipped';

/**
 * Why an action was not attempted: `halted` (an earlier rollout wave failed too often),
 * `blocked` (a guard), `dependency` (an earlier action of the same tenant or target failed),
 * `interrupted` (the lease was lost or the process was signalled).
 */
export type SkipReason = 'halted' | 'blocked' | 'dependency' | 'interrupted';

/** One lifecycle event on one live resource, as the act steps reported it. */
export interface ResourceChange {
  kind: AuditKind;
  id: string;
  state: AuditState;
  workspaceId?: string;
  details?: Record<string, string | number | boolean>;
}

export interface ActionResult {
  actionId: string;
  kind: ActionKind;
  target: ActionTarget;
  replacement?: boolean;
  wave?: number;
  /** The AWS account it acted in, when a canary account is configured (src/accounts.ts). */
  account?: Account;
  /** One half of a tenant's move between accounts. */
  move?: { from: Account; to: Account };
  status: ResultStatus;
  /** failed: the redacted error message (operation, resource, cause). */
  error?: string;
  /** failed: the operation that failed (an AWS action or a Cloudflare operation), when known. */
  failedOperation?: string;
  skipped?: { reason: SkipReason; detail: string };
  resources: ResourceChange[];
  durationMs: number;
  /** Rollout waves with a health gate: what the tenant's check saw after its wave. */
  healthCheck?: HealthCheckResult;
}

/** One tenant's health check after its wave: never a response body, never a secret. */
export interface HealthCheckResult {
  url: string;
  ok: boolean;
  attempts: number;
  /** The last HTTP status seen, when an answer came. */
  status?: number;
  /** The last network error (ECONNREFUSED, a timeout), when no answer came. */
  error?: string;
  elapsedMs: number;
}

export interface WaveResult {
  wave: number;
  actions: number;
  failed: number;
  /** failed / actions. */
  failureRatio: number;
  /** True when this wave's ratio exceeded rollout.maxFailureRatio, so later waves did not run. */
  halted: boolean;
  /** Tenants whose health check failed after the wave (counted in `failed`); absent without a gate. */
  unhealthy?: number;
}

export interface ChangeSet {
  formatVersion: typeof CHANGESET_FORMAT_VERSION;
  environment: string;
  runId: string | undefined;
  startedAt: string;
  finishedAt: string;
  results: ActionResult[];
  rollout: { waves: WaveResult[]; maxFailureRatio: number; halted: boolean };
  summary: { ok: number; failed: number; skipped: number };
  /**
   * An AWS account that could not be observed (a refused canary role): its tenants were not
   * planned, so they have no result of their own; one line each, naming the role and the tenants.
   */
  accountFailures?: string[];
}

/** 0 when every action succeeded, 4 when anything failed, was skipped, the rollout halted or an account was unreachable. */
export function changeSetExitCode(cs: ChangeSet): 0 | 4 {
  return cs.summary.failed > 0 || cs.summary.skipped > 0 || cs.rollout.halted || (cs.accountFailures?.length ?? 0) > 0 ? 4 : 0;
}

export function summarise(results: readonly ActionResult[]): ChangeSet['summary'] {
  const summary = { ok: 0, failed: 0, skipped: 0 };
  for (const r of results) summary[r.status] += 1;
  return summary;
}
