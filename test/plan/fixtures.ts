/**
 * Small builders of desired states and inventories for planner tests (and other suites that need
 * a plan: apply, render, bench). `inventoryFor(desired)` builds the live state that exactly
 * matches a desired state — the fixed point the planner must plan nothing for.
 */
import { Tag, baseTags, dnsComment, hostname, secretName, tenantSecurityGroupName, tunnelName, tunnelTarget, workspaceSecurityGroupName } from '../../src/contract.js';
import { DEFAULT_BUDGETS } from '../../src/desired/defaults.js';
import type { DesiredState, DesiredTenant, DesiredWorkspace, FleetSpec, Power } from '../../src/desired/model.js';
import type { Inventory, LiveInstance, LiveTenant, LiveWorkspace } from '../../src/live/model.js';

export const ENV = 'dev';
export const NOW = '2025-06-01T12:00:00.000Z';

export function fleetSpec(overrides: Partial<FleetSpec> = {}): FleetSpec {
  return {
    apiVersion: 'tenantform/v1',
    environment: ENV,
    region: 'us-east-2',
    appDomain: 'apps.example.test',
    tenantImage: 'ghcr.io/acme/platform:1.0.0',
    canaryTenantImage: undefined,
    defaultAmi: 'ami-0base',
    amiPins: [],
    runtimeImagePins: {},
    tenant: { instanceType: 't3.small', volumeGb: 30, platformPort: 8080 },
    tiers: [
      { name: 'T3', instanceType: 't3.medium', volumeGb: 40, reserved: true },
      { name: 'T4', instanceType: 't3.large', volumeGb: 80, reserved: false },
    ],
    tierClamp: { min: 'T4', max: 'T4' },
    volumeFloors: { hermes: 50 },
    rollout: { batches: [{ count: 1 }, { percent: 50 }], maxFailureRatio: 0.25 },
    guards: { maxDeletes: 3, maxTerminations: 5 },
    deletion: { secretRecoveryWindowDays: 7, terminationDeadlineSeconds: 600 },
    budgets: DEFAULT_BUDGETS,
    quotas: { tunnelsPerAccount: 1000, dnsRecordsPerZone: 3500, vcpus: undefined },
    ...overrides,
  };
}

export interface WorkspaceOptions {
  id?: string;
  runtime?: string;
  power?: Power;
  image?: string;
  instanceType?: string;
  volumeGb?: number;
  ami?: string;
}

export function workspace(name: string, o: WorkspaceOptions = {}): DesiredWorkspace {
  return {
    spec: { apiVersion: 'tenantform/v1', name, id: o.id ?? `ws-${name}`, runtime: o.runtime ?? 'claude', tier: 'T4', power: o.power ?? 'running', image: o.image },
    effective: { tier: 'T4', instanceType: o.instanceType ?? 't3.large', volumeGb: o.volumeGb ?? 80, ami: o.ami ?? 'ami-0base', image: o.image },
    source: { file: `tenants/x/workspaces/${name}.yaml`, line: 1, col: 1 },
  };
}

export interface TenantOptions {
  orgId?: string;
  canary?: boolean;
  power?: Power;
  deletionProtection?: boolean;
  instanceType?: string;
  image?: string;
  ami?: string;
  volumeGb?: number;
  workspaces?: DesiredWorkspace[];
}

export function tenant(slug: string, o: TenantOptions = {}): DesiredTenant {
  return {
    spec: {
      apiVersion: 'tenantform/v1',
      slug,
      orgId: o.orgId ?? `org-${slug}`,
      canary: o.canary ?? false,
      power: o.power ?? 'running',
      deletionProtection: o.deletionProtection ?? false,
      instanceType: o.instanceType,
    },
    effective: {
      instanceType: o.instanceType ?? 't3.small',
      volumeGb: o.volumeGb ?? 30,
      ami: o.ami ?? 'ami-0base',
      image: o.image ?? 'ghcr.io/acme/platform:1.0.0',
    },
    workspaces: (o.workspaces ?? []).map((w) => ({ ...w, source: { ...w.source, file: `tenants/${slug}/workspaces/${w.spec.name}.yaml` } })),
    source: { file: `tenants/${slug}/tenant.yaml`, line: 1, col: 1 },
  };
}

export function desiredState(tenants: DesiredTenant[], fleet: FleetSpec = fleetSpec()): DesiredState {
  return { fleet, tenants, hash: 'desired-hash-1', commit: '0123456789abcdef0123456789abcdef01234567' };
}

function instance(
  id: string,
  o: { state?: LiveInstance['state']; instanceType: string; ami: string; volumeGb: number; sg: string; tags: Record<string, string> },
): LiveInstance {
  return {
    instanceId: id,
    state: o.state ?? 'running',
    instanceType: o.instanceType,
    imageId: o.ami,
    volumeGb: o.volumeGb,
    securityGroupIds: [o.sg],
    launchTime: '2025-01-01T00:00:00.000Z',
    tags: o.tags,
  };
}

export function liveWorkspaceFor(t: DesiredTenant, w: DesiredWorkspace, env = ENV): LiveWorkspace {
  const { orgId, slug } = t.spec;
  const sg = `sg-w-${w.spec.id}`;
  const tags: Record<string, string> = {
    ...baseTags(env, 'workspace', orgId, slug),
    [Tag.workspaceId]: w.spec.id,
    [Tag.runtime]: w.spec.runtime,
    [Tag.tier]: w.effective.tier,
    [Tag.name]: `${slug}-${w.spec.name}`,
    // A workspace carries its tenant's protection (apply stamps it at create).
    [Tag.deletionProtection]: String(t.spec.deletionProtection),
  };
  if (w.effective.image) tags[Tag.image] = w.effective.image;
  return {
    orgId,
    workspaceId: w.spec.id,
    instances: [
      instance(`i-w-${w.spec.id}`, {
        state: w.spec.power === 'running' ? 'running' : 'stopped',
        instanceType: w.effective.instanceType,
        ami: w.effective.ami,
        volumeGb: w.effective.volumeGb,
        sg,
        tags,
      }),
    ],
    securityGroups: [
      {
        groupId: sg,
        groupName: workspaceSecurityGroupName(env, orgId, w.spec.id),
        vpcId: 'vpc-1',
        tags: { ...baseTags(env, 'workspace', orgId, slug), [Tag.deletionProtection]: String(t.spec.deletionProtection) },
      },
    ],
  };
}

/** The live tenant that exactly matches a declaration (everything provisioned, nothing extra). */
export function liveTenantFor(t: DesiredTenant, fleet: FleetSpec, env = ENV): LiveTenant {
  const { orgId, slug, deletionProtection } = t.spec;
  const protection = { [Tag.deletionProtection]: String(deletionProtection) };
  const tunnelId = `tun-${orgId}`;
  const sg = `sg-t-${orgId}`;
  const workspaces: Record<string, LiveWorkspace> = {};
  for (const w of t.workspaces) workspaces[w.spec.id] = liveWorkspaceFor(t, w, env);
  return {
    orgId,
    slug,
    instances: [
      instance(`i-t-${orgId}`, {
        state: t.spec.power === 'running' ? 'running' : 'stopped',
        instanceType: t.effective.instanceType,
        ami: t.effective.ami,
        volumeGb: t.effective.volumeGb,
        sg,
        tags: { ...baseTags(env, 'tenant', orgId, slug), ...protection, [Tag.image]: t.effective.image, [Tag.tunnelId]: tunnelId, [Tag.name]: slug },
      }),
    ],
    securityGroups: [{ groupId: sg, groupName: tenantSecurityGroupName(env, orgId), vpcId: 'vpc-1', tags: { ...baseTags(env, 'tenant', orgId, slug), ...protection } }],
    secrets: [
      {
        arn: `arn:aws:secretsmanager:us-east-2:123456789012:secret:${secretName(env, orgId)}-AbCdEf`,
        name: secretName(env, orgId),
        deletedDate: undefined,
        tags: { ...baseTags(env, 'tenant', orgId, slug), ...protection },
      },
    ],
    tunnels: [{ id: tunnelId, name: tunnelName(env, slug, orgId), createdAt: '2025-01-01T00:00:00.000Z' }],
    dnsRecords: [
      {
        id: `dns-${orgId}`,
        name: hostname(slug, fleet.appDomain),
        type: 'CNAME',
        content: tunnelTarget(tunnelId),
        proxied: true,
        comment: dnsComment(env, orgId, slug),
        tags: [],
      },
    ],
    workspaces,
    deletionProtection,
  };
}

export function inventoryOf(tenants: LiveTenant[], o: { env?: string; scope?: Inventory['scope'] } = {}): Inventory {
  return {
    environment: o.env ?? ENV,
    observedAt: NOW,
    scope: o.scope ?? { kind: 'all' },
    tenants: Object.fromEntries(tenants.map((t) => [t.orgId, t])),
    unattributed: [],
    calls: { ec2: 0, secretsmanager: 0, ssm: 0, cloudflare: 0 },
  };
}

/** The inventory that equals the desired state: planning it must yield no actions. */
export function inventoryFor(desired: DesiredState, o: { scope?: Inventory['scope'] } = {}): Inventory {
  return inventoryOf(
    desired.tenants.map((t) => liveTenantFor(t, desired.fleet, desired.fleet.environment)),
    { env: desired.fleet.environment, ...o },
  );
}

/** A deep copy, so a test can mutate one scenario's inventory without touching another's. */
export function clone<T>(value: T): T {
  return structuredClone(value);
}
