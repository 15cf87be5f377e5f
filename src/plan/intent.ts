/**
 * What apply needs to act, recorded on each action by the planner (plan format 3), so a saved
 * plan applies without the fleet repository: apply acts from an action's `intent` and the
 * wiring, never from the desired state or the display-only `before`/`after` attributes.
 *
 * - Declared targets (every kind but `delete`) carry what the desired state resolved to: instance
 *   type, root volume, AMI, image, power, runtime and tier, deletion protection (the tags and the
 *   user-data inputs apply writes come from these and the wiring). The platform port (ingress, the
 *   group's rules, user-data) and the other fleet settings apply uses are the plan's `settings`.
 *   Names that follow from the wiring (hostname `<slug>.<APP_DOMAIN>`, the bundle's secret name,
 *   group names) are derived at apply time from the same contract functions.
 * - Deletes carry the ids the plan recorded (and the names messages need): a delete acts on those
 *   and nothing else; the stale-plan check refuses a plan when something appeared since.
 * - No secret is ever here: a bundle's values are generated or read at apply time, and the
 *   wiring's secrets (SECRETS_ENCRYPTION_KEY, PROVISION_SHARED_SECRET, GHCR_PULL_TOKEN) are read
 *   from apply's environment, as they always were.
 */
import type { Account } from '../accounts.js';
import type { Budgets, DesiredTenant, DesiredWorkspace, FleetSpec, HealthCheckSpec, Power, TenantSpec } from '../desired/model.js';

/** A tenant as declared: its instance, image and power. */
export interface TenantIntent {
  orgId: string;
  slug: string;
  instanceType: string;
  volumeGb: number;
  ami: string;
  image: string;
  power: Power;
  deletionProtection: boolean;
}

/** A workspace as declared, with its tenant's identity and deletion protection. */
export interface WorkspaceIntent {
  orgId: string;
  slug: string;
  workspaceId: string;
  /** The workspace file name (Name tag). */
  name: string;
  runtime: string;
  power: Power;
  tier: string;
  instanceType: string;
  volumeGb: number;
  ami: string;
  /** Set when a runtime image pin (or the workspace's own image) selects the containerised path. */
  image: string | undefined;
  /** The tenant's: a protected tenant's workspaces carry DeletionProtection=true too. */
  deletionProtection?: boolean;
}

/** A tenant's whole cascade as observed when planned, in the order apply deletes it. */
export interface TenantCascade {
  orgId: string;
  slug: string;
  /** Workspace instances first, then the tenant's own. */
  instances: Array<{ id: string; workspaceId?: string }>;
  /** Workspace groups first, then the tenant's. */
  securityGroups: Array<{ id: string; workspaceId?: string }>;
  /** ARNs of the bundle(s) that are not already scheduled for deletion. */
  secrets: string[];
  dnsRecords: Array<{ id: string; name: string }>;
  tunnels: Array<{ id: string; name: string }>;
}

export interface WorkspaceCascade {
  orgId: string;
  slug: string;
  workspaceId: string;
  instances: string[];
  securityGroups: string[];
}

/** `account`: where apply acts (src/accounts.ts); absent means main. */
export type ActionIntent = IntentBody & { account?: Account };

type IntentBody =
  /** create, repair, update, resize, start, stop, redeploy of a tenant. */
  | { kind: 'tenant'; tenant: TenantIntent; /** An update that moves the hostname: the record name it leaves. */ previousHostname?: string }
  /** create, repair, update, resize, start, stop, redeploy of a workspace. */
  | { kind: 'workspace'; workspace: WorkspaceIntent }
  /** delete of an undeclared tenant. */
  | { kind: 'tenantDelete'; cascade: TenantCascade }
  /** delete of an undeclared (or moved) workspace. */
  | { kind: 'workspaceDelete'; cascade: WorkspaceCascade }
  /** the delete half of a replacement: these instances only. */
  | { kind: 'instanceReplace'; orgId: string; slug: string; workspaceId?: string; instanceIds: string[] };

export const INTENT_KINDS = ['tenant', 'workspace', 'tenantDelete', 'workspaceDelete', 'instanceReplace'] as const satisfies readonly ActionIntent['kind'][];

/** The fleet settings apply acts with (fleet.yaml's; none of them is a secret). */
export interface PlanSettings {
  region: string;
  appDomain: string;
  /** The platform's port: the tunnel's ingress, the tenant group's rule, user-data. */
  platformPort: number;
  budgets: Budgets;
  /** `healthCheck`: the gate after each wave (absent: none). */
  rollout: { maxFailureRatio: number; healthCheck?: HealthCheckSpec };
  deletion: FleetSpec['deletion'];
  /** The limits apply re-checks the destruction guards against when the fleet repository is not at hand. */
  guards: FleetSpec['guards'];
  /** The quota limits apply re-checks against without the fleet repository (absent in older files: the defaults). */
  quotas?: FleetSpec['quotas'];
}

export function planSettings(fleet: FleetSpec): PlanSettings {
  return {
    region: fleet.region,
    appDomain: fleet.appDomain,
    platformPort: fleet.tenant.platformPort,
    budgets: fleet.budgets,
    rollout: { maxFailureRatio: fleet.rollout.maxFailureRatio, ...(fleet.rollout.healthCheck ? { healthCheck: { ...fleet.rollout.healthCheck } } : {}) },
    deletion: { ...fleet.deletion },
    guards: { ...fleet.guards },
    quotas: { ...fleet.quotas },
  };
}

export function tenantIntent(t: DesiredTenant): TenantIntent {
  return {
    orgId: t.spec.orgId,
    slug: t.spec.slug,
    instanceType: t.effective.instanceType,
    volumeGb: t.effective.volumeGb,
    ami: t.effective.ami,
    image: t.effective.image,
    power: t.spec.power,
    deletionProtection: t.spec.deletionProtection,
  };
}

export function workspaceIntent(tenant: Pick<TenantSpec, 'orgId' | 'slug'> & { deletionProtection?: boolean }, ws: DesiredWorkspace): WorkspaceIntent {
  return {
    orgId: tenant.orgId,
    slug: tenant.slug,
    deletionProtection: tenant.deletionProtection ?? false,
    workspaceId: ws.spec.id,
    name: ws.spec.name,
    runtime: ws.spec.runtime,
    power: ws.spec.power,
    tier: ws.effective.tier,
    instanceType: ws.effective.instanceType,
    volumeGb: ws.effective.volumeGb,
    ami: ws.effective.ami,
    image: ws.effective.image,
  };
}
