/**
 * The plan use case: load the fleet, read the wiring, observe the environment read-only through
 * the clients the factory makes, and diff. Returns the plan (or the diagnostics that stopped it);
 * the caller renders it and saves it.
 *
 * With `changedSince` only the tenants whose files changed are loaded in full and observed
 * (through tag, prefix and hostname filters), so a pull request that touches one tenant costs a
 * handful of API calls whatever the fleet's size.
 */
import { readWiring, canaryAccountSettings, cloudflareCredentials } from '../config/env.js';
import { canaryRequest, observeAccounts } from './accounts.js';
import { changedScope } from '../desired/changed.js';
import { hasErrors, sortDiagnostics, type Diagnostic } from '../desired/diagnostics.js';
import { loadFleet } from '../desired/load.js';
import type { DesiredState } from '../desired/model.js';
import type { Inventory } from '../live/model.js';
import { observe, type ObserveScope } from '../live/observe.js';
import { planChanges, unknownReplaceTargets, type PlanOptions } from '../plan/diff.js';
import type { BackupSettings } from '../contract.js';
import { checkQuotas } from './quotas.js';
import type { Plan } from '../plan/model.js';
import type { Redactor } from '../redact.js';
import type { CloudSessionFactory, WiringEnv } from './ports.js';
import { parseReplace } from './replace.js';

export interface PlanInput {
  repoDir: string;
  wiringEnv: WiringEnv;
  clients: CloudSessionFactory;
  /** Learns the wiring's secret values before anything can quote them. */
  redactor: Redactor;
  signal?: AbortSignal;
  now?: () => Date;
  changedSince?: string;
  allowEmpty?: boolean;
  allowDeletes?: number;
  allowTerminations?: number;
  allowReplacements?: number;
  /** `<slug>` or `<slug>/<workspace>`, checked against the fleet. */
  replace?: readonly string[];
}

export type PlanResult = { ok: false; diagnostics: Diagnostic[] } | { ok: true; plan: Plan; desired: DesiredState; inventory: Inventory };

/** Wiring that only provisioning needs; a read-only plan runs without it (e.g. in pull request CI). */
const APPLY_ONLY_VARIABLES = new Set(['SECRETS_ENCRYPTION_KEY', 'EC2_TENANT_IAM_PROFILE', 'CANARY_TENANT_IAM_PROFILE']);

export async function planFleet(input: PlanInput): Promise<PlanResult> {
  const { repoDir: dir, wiringEnv: env } = input;
  input.redactor.registerEnv(env);
  const scope = input.changedSince === undefined ? undefined : await changedScope(dir, input.changedSince);
  const narrowed = scope && !scope.all ? scope.slugs : undefined;

  const loaded = await loadFleet(dir, {
    allowEmpty: input.allowEmpty ?? false,
    env,
    ...(narrowed ? { only: { slugs: narrowed } } : {}),
  });
  const diagnostics: Diagnostic[] = [...loaded.diagnostics];
  const wiring = readWiring(env, loaded.fleet);
  diagnostics.push(...wiring.diagnostics.filter((d) => d.severity === 'error' && !APPLY_ONLY_VARIABLES.has(d.path)));
  sortDiagnostics(diagnostics);
  const desired = loaded.state;
  if (!desired || hasErrors(diagnostics)) return { ok: false, diagnostics };

  const replace = parseReplace(input.replace, (r) => unknownReplaceTargets(desired, r));
  input.signal?.throwIfAborted();
  const { fleet } = desired;
  const canary = canaryAccountSettings(env);
  const session = input.clients({
    region: fleet.region,
    budgets: fleet.budgets,
    cloudflare: cloudflareCredentials(env),
    ...(canary ? { canary: canaryRequest(canary, fleet.environment) } : {}),
  });
  let inventory: Inventory;
  let plan: Plan;
  try {
    inventory = await observe(session.readers, {
      environment: fleet.environment,
      appDomain: fleet.appDomain,
      ...(narrowed ? { scope: observeScope(desired, narrowed) } : {}),
      ...observeAccounts(session),
    });
    input.signal?.throwIfAborted();
    plan = planChanges(desired, inventory, planOptions(input, replace, wiring.wiring?.backup));
    // The quotas count the whole account and zone, so they are read once the plan says what it adds.
    plan = await checkQuotas(plan, session.readers, inventory, fleet.quotas, session.canary?.readers);
  } finally {
    session.close();
  }
  input.signal?.throwIfAborted();
  return { ok: true, plan, desired, inventory };
}

function planOptions(input: PlanInput, replace: string[], backup: BackupSettings | undefined): PlanOptions {
  return {
    now: (input.now ?? (() => new Date()))().toISOString(),
    ...(input.allowDeletes !== undefined ? { allowDeletes: input.allowDeletes } : {}),
    ...(input.allowTerminations !== undefined ? { allowTerminations: input.allowTerminations } : {}),
    ...(input.allowReplacements !== undefined ? { allowReplacements: input.allowReplacements } : {}),
    ...(replace.length > 0 ? { replace } : {}),
    ...(input.changedSince !== undefined ? { changedSince: input.changedSince } : {}),
    // Only with the provisioning wiring at hand: without it (a pull request's CI) the bundle content is not compared.
    ...(backup ? { backup } : {}),
  };
}

function observeScope(desired: DesiredState, slugs: string[]): ObserveScope {
  const wanted = new Set(slugs);
  return { slugs, orgIds: desired.tenants.filter((t) => wanted.has(t.spec.slug)).map((t) => t.spec.orgId) };
}
