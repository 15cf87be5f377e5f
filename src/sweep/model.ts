/**
 * The sweep's result: plain data (JSON-serialisable) that every renderer reads. One finding per
 * live resource that carries this environment's marks and is backed by no declaration, plus the
 * audit store's claims whose resource is gone ("lost"). Pure types, so render/ and plan-free
 * modules can read it without importing anything that acts.
 */
import type { Account } from '../accounts.js';

export const SWEEP_FORMAT_VERSION = 1;

export type SweepResourceKind = 'instance' | 'securityGroup' | 'secret' | 'tunnel' | 'dnsRecord';

/**
 * Why a resource is an orphan:
 * - undeclaredTenant: its org is declared nowhere in the fleet repository;
 * - undeclaredWorkspace: a workspace resource of a declared tenant whose workspace file is gone;
 * - unusedSecurityGroup: a declared owner's group that no live instance uses;
 * - tunnelWithoutRecord: a declared tenant's tunnel no DNS record of the tenant points at;
 * - recordWithoutTunnel: a declared tenant's record that points at no live tunnel;
 * - unattributed: carries the environment's marks but names no org (reported, never deleted).
 */
export type OrphanReason = 'undeclaredTenant' | 'undeclaredWorkspace' | 'unusedSecurityGroup' | 'tunnelWithoutRecord' | 'recordWithoutTunnel' | 'unattributed';

/**
 * What happens to a finding: `delete` (old enough, not protected; a dry run only reports it),
 * `tooYoung` (younger than --min-age, or its age is unknown), `protected` (DeletionProtection),
 * `reportOnly` (unattributed: no org to reason about), `refused` (over the maxDeletes guard).
 * After --delete a `delete` verdict becomes `deleted` or `failed`.
 */
export type OrphanVerdict = 'delete' | 'tooYoung' | 'protected' | 'reportOnly' | 'refused' | 'deleted' | 'failed';

export interface Orphan {
  kind: SweepResourceKind;
  /** EC2 and Secrets Manager orphans: the AWS account it is in, when a canary account is configured (absent: main). */
  account?: Account;
  /** Instance id, group id, secret name, tunnel id, DNS record id. */
  id: string;
  /** A readable name: the Name tag, group name, secret name, tunnel name, record hostname. */
  name: string | undefined;
  orgId: string | undefined;
  slug: string | undefined;
  workspaceId: string | undefined;
  reason: OrphanReason;
  /** ISO time the resource was made, or first seen by the store when the cloud does not say. */
  since: string | undefined;
  ageSource: 'created' | 'firstSeen' | 'unknown';
  verdict: OrphanVerdict;
  /** A failed delete's message (redacted). */
  error?: string;
}

/** A claim in the audit store (latest event created/adopted/updated) whose resource is gone. */
export interface LostClaim {
  kind: string;
  id: string;
  orgId: string;
  slug: string;
  workspaceId: string | undefined;
  /** When the claim was last recorded. */
  at: string;
  runId: string;
}

export interface SweepSummary {
  orphans: number;
  /** Orphans a --delete would remove (dry run) or removed (after --delete). */
  deletable: number;
  deleted: number;
  failed: number;
  tooYoung: number;
  protected: number;
  reportOnly: number;
  refused: number;
  lost: number;
  /** Orgs whose whole cascade is orphaned (the maxDeletes guard counts these). */
  orphanedTenants: number;
}

export interface SweepReport {
  formatVersion: typeof SWEEP_FORMAT_VERSION;
  environment: string;
  observedAt: string;
  /** The --min-age in milliseconds. */
  minAgeMs: number;
  mode: 'dryRun' | 'delete';
  orphans: Orphan[];
  lost: LostClaim[];
  /** Guard refusals (maxDeletes), as messages. */
  refusals: string[];
  summary: SweepSummary;
  /** API calls made observing, per service (the benchmark reads these). */
  calls: Record<string, number>;
}
