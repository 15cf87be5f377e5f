/**
 * The drift use case: load the fleet, read the wiring, observe the whole environment through the
 * list calls plan makes (every tenant, every run), then deep-check the stalest tenants the budget
 * allows (one tunnel configuration GET per tunnel, one bundle key read per bundle), compare
 * purely, and remember who was deep-checked. With `fix`, repair what can be repaired in place
 * under the environment lease (src/app/drift-fix.ts) and look again. Returns the result; the
 * caller renders it.
 *
 * Read-only without `fix`: the observers hold no mutating call. A broken fleet repository returns
 * its diagnostics before any client is made, so no request goes out.
 */
import { canaryRequest } from './accounts.js';
import { readWiring } from '../config/env.js';
import { hasErrors, sortDiagnostics, type Diagnostic } from '../desired/diagnostics.js';
import { loadFleet } from '../desired/load.js';
import type { DesiredState } from '../desired/model.js';
import { tenantDeepCost } from '../drift/compare.js';
import type { DriftResult } from '../drift/model.js';
import { chooseDeepChecks, type RotationChoice, type RotationCandidate } from '../drift/rotation.js';
import type { Inventory } from '../live/model.js';
import type { Clock } from '../rate/index.js';
import type { Redactor } from '../redact.js';
import type { AuditStore } from '../store/index.js';
import type { DeepCheckStore } from '../store/deep-checks.js';
import { fixDrift } from './drift-fix.js';
import { inspect, type Inspection } from './drift-inspect.js';
import { noProgress, type CloudSessionFactory, type ProgressSink, type WiringEnv } from './ports.js';

export interface DriftInput {
  repoDir: string;
  wiringEnv: WiringEnv;
  clients: CloudSessionFactory;
  /** Opened only once the fleet and the wiring are valid. */
  openStore: () => DeepCheckStore | Promise<DeepCheckStore>;
  redactor: Redactor;
  /** Per-tenant calls per service in this run; undefined deep-checks every tenant. */
  budget?: number;
  /** Repair in place under the environment lease, with audit rows, then look again. */
  fix?: { openAuditStore: () => AuditStore | Promise<AuditStore>; lockTtlMs: number; clock?: Clock };
  signal?: AbortSignal;
  now?: () => Date;
  progress?: ProgressSink;
}

export type DriftRun = { ok: false; diagnostics: Diagnostic[] } | { ok: true; result: DriftResult; desired: DesiredState; inventory: Inventory };

/** Wiring only provisioning needs; a read-only drift job may run without it (and then skips what it would check). */
const APPLY_ONLY_VARIABLES = new Set(['SECRETS_ENCRYPTION_KEY', 'EC2_TENANT_IAM_PROFILE']);

export async function driftFleet(input: DriftInput): Promise<DriftRun> {
  const env = input.wiringEnv;
  const progress = input.progress ?? noProgress;
  input.redactor.registerEnv(env);
  const loaded = await loadFleet(input.repoDir, { allowEmpty: false, env });
  const diagnostics: Diagnostic[] = [...loaded.diagnostics];
  // --fix provisions, so it needs the whole wiring; a read-only run is read as provisioning would read it, without what only provisioning needs.
  const readOnly = !input.fix;
  const wiringRead = readWiring(
    readOnly
      ? { ...env, SECRETS_ENCRYPTION_KEY: env.SECRETS_ENCRYPTION_KEY || 'unused-by-drift', EC2_TENANT_IAM_PROFILE: env.EC2_TENANT_IAM_PROFILE || 'unused-by-drift' }
      : env,
    loaded.fleet,
  );
  diagnostics.push(...wiringRead.diagnostics.filter((d) => d.severity === 'error' && !(readOnly && APPLY_ONLY_VARIABLES.has(d.path))));
  sortDiagnostics(diagnostics);
  const desired = loaded.state;
  const wiring = wiringRead.wiring;
  if (!desired || !wiring || hasErrors(diagnostics)) return { ok: false, diagnostics };
  input.signal?.throwIfAborted();

  const { fleet } = desired;
  const now = input.now ?? (() => new Date());
  const store = await input.openStore();
  const session = input.clients({
    region: fleet.region,
    budgets: fleet.budgets,
    cloudflare: wiring.cloudflare,
    ...(input.fix?.clock ? { clock: input.fix.clock } : {}),
    ...(wiring.canary ? { canary: canaryRequest(wiring.canary, fleet.environment) } : {}),
  });
  try {
    let choice: RotationChoice<RotationCandidate> | undefined;
    const first = await inspect({
      session,
      desired,
      wiring,
      env,
      ...(input.signal ? { signal: input.signal } : {}),
      chooseDeep: async (inventory) => {
        const candidates = desired.tenants.map((t) => ({
          orgId: t.spec.orgId,
          slug: t.spec.slug,
          cost: tenantDeepCost(t, inventory.tenants[t.spec.orgId], fleet.environment),
        }));
        choice = chooseDeepChecks(candidates, await store.marks(fleet.environment), input.budget);
        return choice.checked;
      },
    });
    const chosen = choice!;
    const warnings: string[] = [];
    if (chosen.budgetTooSmall) warnings.push(`--budget ${input.budget} is smaller than one tenant's deep check; no tenant was deep-checked`);
    if (!wiring.ec2.eicEndpointSecurityGroupId) warnings.push('EIC_ENDPOINT_SG_ID is not set: every tcp/22 rule is reported');
    if (!first.expectations.iamProfile) warnings.push('EC2_TENANT_IAM_PROFILE is not set: instance profiles are not compared');
    const canary = first.inventory.accounts?.canary;
    if (canary && !canary.observed) warnings.push(`the canary account could not be observed (${canary.error ?? 'unknown error'}): its tenants are not compared`);
    await store.record(fleet.environment, chosen.checked, now().toISOString());
    for (const w of warnings) progress({ kind: 'warning', message: w });

    let final: Inspection = first;
    let fix: DriftResult['fix'];
    if (input.fix && first.findings.length > 0) {
      const fixed = await fixDrift({ ...input.fix, input, desired, wiring, session, before: first, progress });
      fix = { runId: fixed.runId, before: first.findings, outcomes: fixed.outcomes };
      final = fixed.after;
    }
    const result: DriftResult = {
      version: 1,
      environment: fleet.environment,
      observedAt: now().toISOString(),
      tenants: desired.tenants.length,
      findings: final.findings,
      notes: final.notes,
      deep: { budget: input.budget, checked: chosen.checked.map((c) => c.slug), pending: chosen.pending.map((c) => c.slug), budgetTooSmall: chosen.budgetTooSmall },
      calls: first.calls,
      warnings,
      ...(fix ? { fix } : {}),
    };
    return { ok: true, result, desired, inventory: final.inventory };
  } finally {
    session.close();
    await store.close();
  }
}
