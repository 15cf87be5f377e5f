/**
 * The drift use case: load the fleet, read the wiring, observe the whole environment through the
 * list calls plan makes (every tenant, every run), then deep-check the stalest tenants the budget
 * allows (one tunnel configuration GET per tunnel, one bundle key read per bundle), compare
 * purely, and remember who was deep-checked. Returns the result; the caller renders it.
 *
 * Read-only: the observers hold no mutating call. A broken fleet repository returns its
 * diagnostics before any client is made, so no request goes out.
 */
import { readWiring, type Wiring } from '../config/env.js';
import { hasErrors, sortDiagnostics, type Diagnostic } from '../desired/diagnostics.js';
import { loadFleet } from '../desired/load.js';
import type { DesiredState } from '../desired/model.js';
import { compareFleet, tenantDeepCost } from '../drift/compare.js';
import { requiredBundleKeys, type DriftExpectations } from '../drift/expectations.js';
import type { DriftResult } from '../drift/model.js';
import { chooseDeepChecks } from '../drift/rotation.js';
import { captureListExtras } from '../live/deep/capture.js';
import { createDeepReaders, type BundleKeys, type TunnelConfiguration } from '../live/deep/readers.js';
import type { Inventory } from '../live/model.js';
import { observe } from '../live/observe.js';
import { mapSettled } from '../rate/index.js';
import type { Redactor } from '../redact.js';
import type { DeepCheckStore } from '../store/deep-checks.js';
import { secretName, tunnelName } from '../contract.js';
import { noProgress, type CloudSessionFactory, type ProgressSink, type WiringEnv } from './ports.js';

export interface DriftInput {
  repoDir: string;
  wiringEnv: WiringEnv;
  clients: CloudSessionFactory;
  /** Opened only once the fleet and the wiring are valid. */
  openStore: () => DeepCheckStore;
  redactor: Redactor;
  /** Per-tenant calls per service in this run; undefined deep-checks every tenant. */
  budget?: number;
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
  // Read as a provisioning run would, without demanding what only provisioning needs.
  const wiringRead = readWiring(
    { ...env, SECRETS_ENCRYPTION_KEY: env.SECRETS_ENCRYPTION_KEY || 'unused-by-drift', EC2_TENANT_IAM_PROFILE: env.EC2_TENANT_IAM_PROFILE || 'unused-by-drift' },
    loaded.fleet,
  );
  diagnostics.push(...wiringRead.diagnostics.filter((d) => d.severity === 'error' && !APPLY_ONLY_VARIABLES.has(d.path)));
  sortDiagnostics(diagnostics);
  const desired = loaded.state;
  const wiring = wiringRead.wiring;
  if (!desired || !wiring || hasErrors(diagnostics)) return { ok: false, diagnostics };
  input.signal?.throwIfAborted();

  const { fleet } = desired;
  const now = input.now ?? (() => new Date());
  const store = input.openStore();
  const session = input.clients({ region: fleet.region, budgets: fleet.budgets, cloudflare: wiring.cloudflare });
  try {
    const listing = captureListExtras(session.readers);
    const inventory = await observe(listing.readers, { environment: fleet.environment, appDomain: fleet.appDomain });
    input.signal?.throwIfAborted();
    const deepReaders = createDeepReaders({ ec2: session.aws.ec2, secrets: session.aws.secrets, cloudflare: session.cloudflare, gate: session.gate });
    const vpcCidr = wiring.ec2.vpcId ? await deepReaders.vpcCidr(wiring.ec2.vpcId) : undefined;
    const expectations = expectationsOf(desired, wiring, env, vpcCidr);

    const candidates = desired.tenants.map((t) => ({
      orgId: t.spec.orgId,
      slug: t.spec.slug,
      cost: tenantDeepCost(t, inventory.tenants[t.spec.orgId], fleet.environment),
    }));
    const choice = chooseDeepChecks(candidates, await store.marks(fleet.environment), input.budget);
    const warnings: string[] = [];
    if (choice.budgetTooSmall) warnings.push(`--budget ${input.budget} is smaller than one tenant's deep check; no tenant was deep-checked`);
    if (!wiring.ec2.eicEndpointSecurityGroupId) warnings.push('EIC_ENDPOINT_SG_ID is not set: every tcp/22 rule is reported');
    if (!expectations.iamProfile) warnings.push('EC2_TENANT_IAM_PROFILE is not set: instance profiles are not compared');

    const tunnelConfigs = new Map<string, TunnelConfiguration>();
    const bundleKeys = new Map<string, BundleKeys>();
    const settled = await mapSettled(choice.checked, fleet.budgets.concurrency, async (c) => {
      const live = inventory.tenants[c.orgId];
      const tunnel = live?.tunnels.find((x) => x.name === tunnelName(fleet.environment, c.slug, c.orgId));
      const bundle = live?.secrets.find((s) => s.name === secretName(fleet.environment, c.orgId));
      if (tunnel) tunnelConfigs.set(tunnel.id, await deepReaders.tunnelConfiguration(tunnel.id));
      if (bundle && !bundle.deletedDate) bundleKeys.set(c.orgId, await deepReaders.bundleKeys(bundle.name));
    });
    const failed = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : []));
    if (failed.length > 0) throw failed[0];
    input.signal?.throwIfAborted();

    const findings = compareFleet(desired, inventory, expectations, {
      deepChecked: new Set(choice.checked.map((c) => c.orgId)),
      tunnelConfigs,
      bundleKeys,
      instanceProfiles: listing.extras.instanceProfiles,
      recordTtls: listing.extras.recordTtls,
    });
    const observedAt = now().toISOString();
    await store.record(fleet.environment, choice.checked, observedAt);
    for (const w of warnings) progress({ kind: 'warning', message: w });
    const list = { ...inventory.calls, ec2: inventory.calls.ec2 + deepReaders.calls.ec2 };
    const deep = { ...deepReaders.calls, ec2: 0 };
    const result: DriftResult = {
      version: 1,
      environment: fleet.environment,
      observedAt,
      tenants: desired.tenants.length,
      findings,
      deep: { budget: input.budget, checked: choice.checked.map((c) => c.slug), pending: choice.pending.map((c) => c.slug), budgetTooSmall: choice.budgetTooSmall },
      calls: { list, deep },
      warnings,
    };
    return { ok: true, result, desired, inventory };
  } finally {
    session.close();
    await store.close();
  }
}

function expectationsOf(desired: DesiredState, wiring: Wiring, env: WiringEnv, vpcCidr: string | undefined): DriftExpectations {
  return {
    environment: desired.fleet.environment,
    appDomain: desired.fleet.appDomain,
    platformPort: desired.fleet.tenant.platformPort,
    perTenantGroups: wiring.ec2.vpcId !== undefined,
    vpcCidr,
    eicGroupId: wiring.ec2.eicEndpointSecurityGroupId,
    iamProfile: env.EC2_TENANT_IAM_PROFILE?.trim() || undefined,
    requiredBundleKeys: requiredBundleKeys({
      sharedSecret: wiring.secrets.provisionSharedSecret !== undefined,
      ghcrPullToken: wiring.secrets.ghcrPullToken !== undefined,
      controlPlaneUrl: wiring.controlPlane.baseUrl !== undefined,
    }),
  };
}
