/**
 * The sweep use case: load the fleet, observe the whole environment as a full plan does (the same
 * list calls), read the audit store's claims and first sightings, and find the orphans
 * (src/sweep/find.ts). A dry run stops there. `delete` takes the environment's lease first (so a
 * sweep never runs while an apply does), observes under it, refuses on the maxDeletes guard with
 * nothing changed, deletes what is old enough and unprotected (src/sweep/act.ts), and records the
 * run and every delete in the audit store.
 *
 * An empty fleet repository is refused (GuardRefusal, exit 3) before any call: an empty or
 * unreadable source must never make every resource an orphan. A broken one returns diagnostics
 * (exit 1) before any call. Like every use case it prints nothing and reads no process state.
 */
import { AuditRecorder } from '../apply/audit-recorder.js';
import { actAccounts, canaryRequest, observeAccounts } from './accounts.js';
import { deadlinesFor, provisionWiring, systemClock, type Clock, type Deadlines } from '../apply/context.js';
import { readWiring, type Wiring, canaryAccountSettings, cloudflareCredentials } from '../config/env.js';
import { hasErrors, sortDiagnostics, type Diagnostic } from '../desired/diagnostics.js';
import { loadFleet } from '../desired/load.js';
import type { DesiredState } from '../desired/model.js';
import { ExitCode, GuardRefusal } from '../errors.js';
import { observe } from '../live/observe.js';
import type { Redactor } from '../redact.js';
import type { AuditStore } from '../store/index.js';
import { deleteOrphans } from '../sweep/act.js';
import { findOrphans, sightingKeys } from '../sweep/find.js';
import { SWEEP_FORMAT_VERSION, type Orphan, type SweepReport, type SweepSummary } from '../sweep/model.js';
import { auditWriteWarnings, recordedRun, statusOfCode } from './recorded-run.js';
import { noProgress, type CloudSession, type CloudSessionFactory, type ProgressSink, type WiringEnv } from './ports.js';

export interface SweepInput {
  repoDir: string;
  wiringEnv: WiringEnv;
  clients: CloudSessionFactory;
  openStore: () => AuditStore | Promise<AuditStore>;
  redactor: Redactor;
  /** False: a dry run (report only). */
  delete: boolean;
  minAgeMs: number;
  allowDeletes?: number | undefined;
  lockTtlMs: number;
  signal?: AbortSignal;
  progress?: ProgressSink;
  clock?: Clock;
  deadlines?: Partial<Deadlines>;
  now?: () => Date;
  /** Runs once the lease is held (delete only), before anything is observed. */
  onLocked?: () => void | Promise<void>;
  /** Runs after the orphans were found (delete only), before the first delete. */
  onObserved?: () => void | Promise<void>;
}

export interface SweepResult {
  code: number;
  /** Present when the fleet or the wiring was invalid (exit 1, no call made). */
  diagnostics?: Diagnostic[];
  report?: SweepReport;
  runId?: string;
}

/** Wiring that only provisioning needs; a dry run works without it, as plan does. */
const APPLY_ONLY_VARIABLES = new Set(['SECRETS_ENCRYPTION_KEY', 'EC2_TENANT_IAM_PROFILE']);

export async function sweepFleet(input: SweepInput): Promise<SweepResult> {
  const progress = input.progress ?? noProgress;
  const env = input.wiringEnv;
  input.redactor.registerEnv(env);
  // An empty repository loads, so that it is refused below as a guard (exit 3), not as bad input.
  const loaded = await loadFleet(input.repoDir, { allowEmpty: true, env });
  const wiringResult = readWiring(env, loaded.fleet);
  const wiringErrors = wiringResult.diagnostics.filter((d) => d.severity === 'error' && (input.delete || !APPLY_ONLY_VARIABLES.has(d.path)));
  const diagnostics = sortDiagnostics([...loaded.diagnostics, ...wiringErrors]);
  if (!loaded.state || hasErrors(diagnostics) || (input.delete && !wiringResult.wiring)) return { code: ExitCode.error, diagnostics };
  for (const d of wiringResult.diagnostics) if (d.severity === 'warning') progress({ kind: 'warning', message: d.message });
  const desired = loaded.state;
  const environment = desired.fleet.environment;
  if (desired.tenants.length === 0) {
    throw new GuardRefusal(
      'refused by a guard, nothing was observed or changed:\n  - emptyDesired: the fleet declares no tenants; an empty or unreadable fleet repository would make every resource an orphan',
      { operation: 'sweep', resource: `environment ${environment}` },
    );
  }
  input.signal?.throwIfAborted();
  const store = await input.openStore();
  try {
    if (!input.delete) {
      const session = openSession(input, desired);
      try {
        return withCode(await survey(input, desired, store, session, 'dryRun'));
      } finally {
        session.close();
      }
    }
    return await sweepLocked(input, desired, wiringResult.wiring!, store, progress);
  } finally {
    await store.close();
  }
}

function openSession(input: SweepInput, desired: DesiredState): CloudSession {
  const env = input.wiringEnv;
  const canary = canaryAccountSettings(env);
  return input.clients({
    region: desired.fleet.region,
    budgets: desired.fleet.budgets,
    cloudflare: cloudflareCredentials(env),
    ...(input.clock ? { clock: input.clock } : {}),
    ...(canary ? { canary: canaryRequest(canary, desired.fleet.environment) } : {}),
  });
}

/** Observe the whole environment, note first sightings, read claims, find. */
async function survey(input: SweepInput, desired: DesiredState, store: AuditStore, session: CloudSession, mode: SweepReport['mode']): Promise<SweepReport> {
  const now = input.now ?? (() => new Date());
  const environment = desired.fleet.environment;
  const inventory = await observe(session.readers, { environment, appDomain: desired.fleet.appDomain, now, ...observeAccounts(session) });
  input.signal?.throwIfAborted();
  // An account that could not be observed hides what is live there: nothing may look orphaned because of it.
  const unseen = Object.values(inventory.accounts ?? {}).filter((a) => !a.observed);
  const blind = unseen.map((a) => `the ${a.account} account could not be observed (${a.error ?? 'unknown error'}); sweep deletes nothing until it can be`);
  const firstSeen = await store.recordSightings(environment, sightingKeys(inventory), inventory.observedAt, { prune: true });
  const claims = await store.claims(environment);
  const found = findOrphans({ desired, inventory, claims, firstSeen, now: now(), minAgeMs: input.minAgeMs, allowDeletes: input.allowDeletes });
  return {
    formatVersion: SWEEP_FORMAT_VERSION,
    environment,
    observedAt: inventory.observedAt,
    minAgeMs: input.minAgeMs,
    mode,
    orphans: found.orphans,
    lost: found.lost,
    refusals: [...blind, ...found.refusals],
    summary: summarise(found.orphans, found.lost.length, found.orphanedTenants),
    calls: { ...inventory.calls },
  };
}

async function sweepLocked(input: SweepInput, desired: DesiredState, wiring: Wiring, store: AuditStore, progress: ProgressSink): Promise<SweepResult> {
  const environment = desired.fleet.environment;
  const { result, runId } = await recordedRun({
    store,
    command: 'sweep',
    environment,
    gitCommit: desired.commit,
    lockTtlMs: input.lockTtlMs,
    signal: input.signal,
    progress,
    work: async ({ runId, signal }) => {
      await input.onLocked?.();
      const session = openSession(input, desired);
      try {
        const found = await survey(input, desired, store, session, 'delete');
        if (found.refusals.length > 0) {
          throw new GuardRefusal(`refused by a guard, nothing was deleted:\n${found.refusals.map((r) => `  - ${r}`).join('\n')}`, {
            operation: 'sweep',
            resource: `environment ${environment}`,
          });
        }
        const slugs = new Map(found.orphans.filter((o) => o.orgId && o.slug).map((o) => [o.orgId!, o.slug!]));
        const recorder = new AuditRecorder({ store, runId, environment, gitCommit: desired.commit, slugOf: (orgId) => slugs.get(orgId) ?? orgId });
        const ctx = {
          wiring: provisionWiring(wiring),
          fleet: desired.fleet,
          aws: session.aws,
          cloudflare: session.cloudflare,
          call: session.gate,
          ...(session.canary ? { accounts: actAccounts(session, wiring, { aws: session.aws, call: session.gate, wiring: provisionWiring(wiring) }) } : {}),
          audit: recorder.event,
          warn: (m: string) => progress({ kind: 'warning', message: m }),
          redactor: input.redactor,
          gitCommit: desired.commit,
          clock: input.clock ?? systemClock,
          deadlines: { ...deadlinesFor(desired.fleet), ...input.deadlines },
        };
        await input.onObserved?.();
        await deleteOrphans(ctx, found.orphans, signal);
        for (const message of auditWriteWarnings(await recorder.flush())) progress({ kind: 'warning', message });
        found.summary = summarise(found.orphans, found.lost.length, found.summary.orphanedTenants);
        return withCode(found);
      } finally {
        session.close();
      }
    },
    outcome: (r) => ({ code: r.code, status: statusOfCode(r.code), summary: r.report.summary }),
  });
  return { ...result, runId };
}

/** 0 nothing found; 2 orphans found (dry run) or some left; 3 a guard refused; 4 some deletes failed. */
export function sweepExitCode(report: SweepReport): number {
  const s = report.summary;
  if (s.failed > 0) return ExitCode.partial;
  if (report.refusals.length > 0) return ExitCode.refused;
  const left = report.mode === 'dryRun' ? s.orphans : s.orphans - s.deleted;
  return left > 0 || s.lost > 0 ? ExitCode.changes : ExitCode.ok;
}

function withCode(report: SweepReport): { code: number; report: SweepReport } {
  return { code: sweepExitCode(report), report };
}

export function summarise(orphans: readonly Orphan[], lost: number, orphanedTenants: number): SweepSummary {
  const count = (v: Orphan['verdict']) => orphans.filter((o) => o.verdict === v).length;
  return {
    orphans: orphans.length,
    deletable: count('delete') + count('deleted') + count('failed'),
    deleted: count('deleted'),
    failed: count('failed'),
    tooYoung: count('tooYoung'),
    protected: count('protected'),
    reportOnly: count('reportOnly'),
    refused: count('refused'),
    lost,
    orphanedTenants,
  };
}
