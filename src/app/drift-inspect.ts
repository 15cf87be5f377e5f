/**
 * One look at the environment for drift: the list calls (every tenant), the budgeted deep reads
 * (only for the tenants given), and the pure comparison. Used by the drift use case, and again
 * after `--fix` to show what is left.
 */
import { describeCause, InternalError, TenantformError } from '../errors.js';
import type { Wiring } from '../config/env.js';
import { secretName, tunnelName } from '../contract.js';
import type { DesiredState } from '../desired/model.js';
import { compareFleet } from '../drift/compare.js';
import { requiredBundleKeys, type DriftExpectations } from '../drift/expectations.js';
import { sortFindings, type DriftFinding } from '../drift/model.js';
import { ACCOUNTS, accountFor } from '../accounts.js';
import { liveIn } from '../plan/accounts.js';
import { captureListExtras } from '../live/deep/capture.js';
import { createDeepReaders, type BundleKeys, type TunnelConfiguration } from '../live/deep/readers.js';
import type { Inventory } from '../live/model.js';
import { observe } from '../live/observe.js';
import type { CallCounts } from '../live/readers.js';
import { mapSettled } from '../rate/index.js';
import type { CloudSession, WiringEnv } from './ports.js';

export interface Inspection {
  inventory: Inventory;
  expectations: DriftExpectations;
  findings: DriftFinding[];
  /** Informational findings (severity `info`): kept by rule, never fixed. */
  notes: DriftFinding[];
  calls: { list: CallCounts; deep: CallCounts };
}

export interface InspectInput {
  session: CloudSession;
  desired: DesiredState;
  wiring: Wiring;
  env: WiringEnv;
  /** Which tenants get the per-tenant reads; called once the inventory is known. */
  chooseDeep: (inventory: Inventory) => Promise<ReadonlyArray<{ orgId: string; slug: string }>>;
  signal?: AbortSignal;
}

export async function inspect(input: InspectInput): Promise<Inspection & { deepChecked: ReadonlyArray<{ orgId: string; slug: string }> }> {
  const { session, desired, wiring } = input;
  const { fleet } = desired;
  const listing = captureListExtras(session.readers);
  // The canary account's listings (its own readers and budgets), when one is configured.
  const canaryListing = session.canary ? captureListExtras(session.canary.readers) : undefined;
  const inventory = await observe(listing.readers, {
    environment: fleet.environment,
    appDomain: fleet.appDomain,
    ...(session.canary && canaryListing ? { main: session.main, canary: { ...session.canary, readers: canaryListing.readers } } : {}),
  });
  input.signal?.throwIfAborted();
  const deepReaders = createDeepReaders({ ec2: session.aws.ec2, secrets: session.aws.secrets, cloudflare: session.cloudflare, gate: session.gate });
  const canaryObserved = session.canary !== undefined && inventory.accounts?.canary?.observed === true;
  const canaryDeep =
    session.canary && canaryObserved
      ? createDeepReaders({ ec2: session.canary.aws.ec2, secrets: session.canary.aws.secrets, cloudflare: session.cloudflare, gate: session.canary.gate })
      : undefined;
  const vpcCidr = wiring.ec2.vpcId ? await deepReaders.vpcCidr(wiring.ec2.vpcId) : undefined;
  const expectations = expectationsOf(desired, wiring, input.env, vpcCidr);
  const canaryExpectations = canaryDeep && wiring.canary ? canaryExpectationsOf(expectations, wiring, await canaryDeep.vpcCidr(wiring.canary.vpcId)) : undefined;
  const deepChecked = await input.chooseDeep(inventory);

  const tunnelConfigs = new Map<string, TunnelConfiguration>();
  const bundleKeys = new Map<string, BundleKeys>();
  const settled = await mapSettled(deepChecked, fleet.budgets.concurrency, async (c) => {
    const live = inventory.tenants[c.orgId];
    const tunnel = live?.tunnels.find((x) => x.name === tunnelName(fleet.environment, c.slug, c.orgId));
    const bundle = live?.secrets.find((s) => s.name === secretName(fleet.environment, c.orgId));
    if (tunnel) tunnelConfigs.set(tunnel.id, await deepReaders.tunnelConfiguration(tunnel.id));
    const bundleReader = bundle?.account === 'canary' ? canaryDeep : deepReaders;
    if (bundle && !bundle.deletedDate && bundleReader) bundleKeys.set(c.orgId, await bundleReader.bundleKeys(bundle.name));
  });
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) {
    const reason: unknown = failed.reason;
    // Readers throw typed errors (the rate gate and cloud wrappers); anything else is a bug here.
    if (reason instanceof TenantformError) throw reason;
    throw new InternalError(describeCause(reason), { operation: 'deep-check tenants', cause: reason });
  }
  input.signal?.throwIfAborted();

  const facts = {
    deepChecked: new Set(deepChecked.map((c) => c.orgId)),
    tunnelConfigs,
    bundleKeys,
    instanceProfiles: new Map([...listing.extras.instanceProfiles, ...(canaryListing?.extras.instanceProfiles ?? [])]),
    recordTtls: listing.extras.recordTtls,
  };
  const compared = session.canary
    ? compareByAccount(desired, inventory, { main: expectations, canary: canaryExpectations }, facts)
    : compareFleet(desired, inventory, expectations, facts);
  // The one DescribeVpcs is made every run like the listings; the deep part is Cloudflare and Secrets Manager.
  const list = { ...inventory.calls, ec2: inventory.calls.ec2 + deepReaders.calls.ec2 + (canaryDeep?.calls.ec2 ?? 0) };
  const deep = { ...deepReaders.calls, ec2: 0, secretsmanager: deepReaders.calls.secretsmanager + (canaryDeep?.calls.secretsmanager ?? 0) };
  const findings = compared.filter((f) => f.severity !== 'info');
  const notes = compared.filter((f) => f.severity === 'info');
  return { inventory, expectations, findings, notes, calls: { list, deep }, deepChecked };
}

/**
 * With a canary account: each tenant is compared in the account it belongs in (src/accounts.ts),
 * against that account's expectations, and its findings say which. Tenants of an account that
 * could not be observed are not compared (they are unknown, not missing).
 */
function compareByAccount(
  desired: DesiredState,
  inventory: Inventory,
  x: { main: DriftExpectations; canary: DriftExpectations | undefined },
  facts: Parameters<typeof compareFleet>[3],
): DriftFinding[] {
  const out: DriftFinding[] = [];
  for (const account of ACCOUNTS) {
    const expect = x[account];
    if (!expect) continue;
    const tenants = desired.tenants.filter((t) => accountFor(t.spec.canary, true) === account);
    const here: Inventory = { ...inventory, tenants: Object.fromEntries(Object.entries(inventory.tenants).map(([org, t]) => [org, liveIn(t, account, true)])) };
    out.push(...compareFleet({ ...desired, tenants }, here, expect, facts).map((f) => ({ ...f, account })));
  }
  return sortFindings(out);
}

function canaryExpectationsOf(main: DriftExpectations, wiring: Wiring, vpcCidr: string | undefined): DriftExpectations {
  return {
    ...main,
    perTenantGroups: true,
    vpcCidr,
    eicGroupId: wiring.canary?.eicEndpointSecurityGroupId,
    iamProfile: wiring.canary?.tenantIamProfile ?? main.iamProfile,
  };
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
    backup: wiring.backup,
    requiredBundleKeys: requiredBundleKeys({
      sharedSecret: wiring.secrets.provisionSharedSecret !== undefined,
      ghcrPullToken: wiring.secrets.ghcrPullToken !== undefined,
      controlPlaneUrl: wiring.controlPlane.baseUrl !== undefined,
    }),
  };
}
