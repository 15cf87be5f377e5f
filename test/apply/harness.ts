/**
 * An ActContext wired to moto (through the fault proxy) and the Cloudflare double, with the
 * product's own client factories and rate gate. Time is virtual: sleeps advance a counter, so
 * deadlines of minutes pass in milliseconds. One harness per test file (the product's AWS clients
 * find the emulator through process.env, which is per vitest worker).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { DescribeInstancesCommand, type Instance } from '@aws-sdk/client-ec2';
import { createAwsClients } from '../../src/aws/clients.js';
import { createCloudflareContext } from '../../src/cloudflare/client.js';
import { DEFAULT_BUDGETS, DEFAULT_DELETION, DEFAULT_TENANT, DEFAULT_TIERS, DEFAULT_TIER_CLAMP, DEFAULT_VOLUME_FLOORS } from '../../src/desired/defaults.js';
import type { FleetSpec } from '../../src/desired/model.js';
import { createRateGate, RateBudgets, type Clock } from '../../src/rate/index.js';
import { Redactor } from '../../src/redact.js';
import type { ActContext, AuditEvent, CallGate, ProvisionWiring } from '../../src/apply/context.js';
import { startAwsEmulator, type AwsEmulator, type AwsTestClients, type FaithfulOptions } from '../support/aws.js';
import { startCloudflareDouble, type CloudflareDouble } from '../support/cloudflare-double/index.js';

export const APP_DOMAIN = 'tenants.example.com';

export interface ApplyHarness {
  aws: AwsEmulator;
  cf: CloudflareDouble;
  /** Test-side AWS clients for assertions (their calls show up in aws.calls too). */
  check: AwsTestClients;
  /** Its fleet is the whole fleet spec (a superset of what act steps read), for tests that resolve workspaces. */
  ctx: ActContext & { fleet: FleetSpec };
  audit: AuditEvent[];
  warnings: string[];
  redactor: Redactor;
  /** The secret values put in the wiring. */
  wiredSecrets: string[];
  /** A fresh context on the same clients with a different gate (e.g. one that simulates a crash). */
  withGate(gate: CallGate): ActContext;
  close(): Promise<void>;
}

export function virtualClock(): Clock {
  let t = Date.now();
  return {
    now: () => t,
    sleep: async (ms) => {
      t += ms;
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

export function fleetSpec(region: string, ami: string): FleetSpec {
  return {
    apiVersion: 'tenantform.dev/v1',
    environment: 'dev',
    region,
    appDomain: APP_DOMAIN,
    tenantImage: 'ghcr.io/example/platform:1.4.2',
    canaryTenantImage: undefined,
    defaultAmi: ami,
    amiPins: [],
    runtimeImagePins: { hermes: 'ghcr.io/example/hermes:2.1.0' },
    tenant: { ...DEFAULT_TENANT },
    tiers: [...DEFAULT_TIERS],
    tierClamp: { ...DEFAULT_TIER_CLAMP },
    volumeFloors: { ...DEFAULT_VOLUME_FLOORS },
    rollout: { batches: [{ count: 1 }], maxFailureRatio: 0.1 },
    guards: { maxDeletes: 3, maxTerminations: 5 },
    deletion: { ...DEFAULT_DELETION },
    budgets: DEFAULT_BUDGETS,
    quotas: { tunnelsPerAccount: 1000, dnsRecordsPerZone: 3500, vcpus: undefined },
  };
}

export async function startApplyHarness(opts: { faithful?: Partial<FaithfulOptions>; wiring?: Partial<ProvisionWiring> } = {}): Promise<ApplyHarness> {
  const aws = await startAwsEmulator({ faithful: opts.faithful ?? {} });
  const cf = await startCloudflareDouble();
  // The product's clients find the emulators through the standard variables, as in production.
  Object.assign(process.env, aws.env, cf.env);
  const clients = createAwsClients({ region: aws.region, maxAttempts: 3 });
  const cloudflare = createCloudflareContext({ apiToken: cf.apiToken, accountId: cf.accountId, zoneId: cf.zoneId, maxRetries: 2 });

  const secret = (label: string) => `${label}-${randomBytes(12).toString('hex')}`;
  const wiring: ProvisionWiring = {
    environment: 'dev',
    region: aws.region,
    appDomain: APP_DOMAIN,
    vpcId: aws.seed.vpcId,
    subnetId: aws.seed.subnetId,
    legacySecurityGroupId: undefined,
    instanceProfileName: aws.seed.instanceProfileName,
    eicSecurityGroupId: aws.seed.eicSecurityGroupId,
    keyName: undefined,
    controlPlaneUrl: 'https://cp.example.com',
    secrets: { encryptionKey: secret('enc'), sharedSecret: secret('shared'), ghcrPullToken: secret('ghcr') },
    ...opts.wiring,
  };
  const redactor = new Redactor();
  const wiredSecrets = [wiring.secrets.encryptionKey, wiring.secrets.sharedSecret!, wiring.secrets.ghcrPullToken!];
  for (const s of wiredSecrets) redactor.register(s);

  const clock = virtualClock();
  const audit: AuditEvent[] = [];
  const warnings: string[] = [];
  const gate = createRateGate({
    budgets: new RateBudgets(DEFAULT_BUDGETS, clock),
    awsAccount: aws.accountId,
    region: aws.region,
    cloudflareAccountId: cf.accountId,
    retry: { clock, random: () => 0 },
  });
  const make = (call: CallGate): ActContext & { fleet: FleetSpec } => ({
    wiring,
    fleet: fleetSpec(aws.region, aws.seed.ami),
    aws: clients,
    cloudflare,
    call,
    audit: (e) => audit.push(e),
    warn: (m) => warnings.push(m),
    redactor,
    gitCommit: 'c0ffee1',
    clock,
    deadlines: { terminationMs: 60_000, powerMs: 60_000, securityGroupMs: 60_000, commandMs: 60_000, volumeMs: 60_000, pollMs: 1_000 },
  });
  return {
    aws,
    cf,
    check: aws.clients(),
    ctx: make(gate),
    audit,
    warnings,
    redactor,
    wiredSecrets,
    withGate: make,
    async close() {
      clients.destroy();
      await aws.close();
      await cf.close();
    },
  };
}

/** A fresh tenant identity per test, so tests in one file never see each other's resources. */
export function newTenant(slugBase = 't'): { orgId: string; slug: string } {
  const orgId = randomUUID();
  return { orgId, slug: `${slugBase}-${orgId.slice(0, 8)}` };
}

export function tenantIntentFor(h: ApplyHarness, t: { orgId: string; slug: string }) {
  return {
    ...t,
    instanceType: 't3.small',
    volumeGb: 30,
    ami: h.aws.seed.ami,
    image: 'ghcr.io/example/platform:1.4.2',
    power: 'running' as const,
    deletionProtection: false,
  };
}

/** Instances of an org (any role) in the given states, via the test-side client. */
export async function orgInstances(h: ApplyHarness, orgId: string, states = ['pending', 'running', 'stopping', 'stopped', 'shutting-down']): Promise<Instance[]> {
  const out = await h.check.ec2.send(
    new DescribeInstancesCommand({
      Filters: [
        { Name: 'tag:OrgID', Values: [orgId] },
        { Name: 'instance-state-name', Values: states },
      ],
      MaxResults: 1000,
    }),
  );
  return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
}

export function tagsOf(x: { Tags?: Array<{ Key?: string; Value?: string }> }): Record<string, string> {
  return Object.fromEntries((x.Tags ?? []).map((t) => [t.Key!, t.Value!]));
}

/** Calls and requests made from now on, for "no mutating call" assertions. */
export function markTraffic(h: ApplyHarness): () => { awsMutating: string[]; cfMutating: string[] } {
  const awsFrom = h.aws.calls.length;
  const cfFrom = h.cf.requests.length;
  return () => ({
    awsMutating: h.aws.calls
      .slice(awsFrom)
      .filter((c) => c.mutating)
      .map((c) => c.action),
    cfMutating: h.cf.requests
      .slice(cfFrom)
      .filter((r) => r.method !== 'GET')
      .map((r) => `${r.method} ${r.path}`),
  });
}

/** Throws if any registered secret appears in the text. */
export function assertNoSecret(h: ApplyHarness, text: string): void {
  if (h.redactor.redact(text) !== text) throw new Error(`a secret value leaked into: ${h.redactor.redact(text).slice(0, 300)}`);
}
