/**
 * The desired state: what the fleet repository declares, after schema checks, rules and
 * defaults. Everything here is plain data; the planner consumes it without I/O.
 */

export type Environment = 'dev' | 'staging' | 'prod';
export type Power = 'running' | 'stopped';

/** Where a value came from, so every message can say file:line:col. Paths are repo-relative. */
export interface SourceLocation {
  file: string;
  line: number;
  col: number;
}

export interface TierSpec {
  name: string;
  instanceType: string;
  volumeGb: number;
  /** Reserved tiers exist in the table but are never the effective tier of a workspace. */
  reserved: boolean;
}

export interface AmiPin {
  runtime: string;
  region: string;
  ami: string;
}

/** The gate after each rollout wave: `url` is a template ({slug}, {orgId}, {appDomain}). */
export interface HealthCheckSpec {
  url: string;
  timeoutSeconds: number;
  intervalSeconds: number;
}

/** A rollout batch: an absolute count of tenants, or a percentage of the remaining fleet. */
export type RolloutBatch = { count: number } | { percent: number };

export interface FleetSpec {
  apiVersion: string;
  environment: Environment;
  region: string;
  appDomain: string;
  tenantImage: string;
  canaryTenantImage: string | undefined;
  /** Default AMI for everything without a pin; falls back to the EC2_AMI variable when absent. */
  defaultAmi: string | undefined;
  amiPins: AmiPin[];
  /** runtime → OCI image; a pin switches the workspace to the containerised user-data path. */
  runtimeImagePins: Record<string, string>;
  tenant: {
    instanceType: string; // t3.small by default
    volumeGb: number; // 30 by default
    platformPort: number;
  };
  /** Ordered from smallest to largest; clamp bounds refer to names in this list. */
  tiers: TierSpec[];
  tierClamp: { min: string; max: string };
  /** runtime → minimum root volume in GB (hermes ≥ 50). */
  volumeFloors: Record<string, number>;
  rollout: { batches: RolloutBatch[]; maxFailureRatio: number; healthCheck?: HealthCheckSpec | undefined };
  /**
   * maxDeletes: tenant deletes per plan. maxTerminations: instances a plan terminates outside a
   * tenant cascade (workspace deletes and the delete half of every replacement).
   */
  guards: {
    maxDeletes: number;
    maxTerminations: number;
    /** Replaced instances per plan; absent only in specs and plans made before the guard existed. */
    maxReplacements?: number;
  };
  deletion: { secretRecoveryWindowDays: number; terminationDeadlineSeconds: number };
  budgets: Budgets;
  /** Account and zone quotas a plan is checked against (src/plan/quotas.ts). */
  quotas: QuotaLimits;
  /** `tenantform serve`'s cron expressions (node-cron syntax, UTC); a job without one does not run. */
  schedules?: Schedules;
}

/**
 * tunnelsPerAccount: Cloudflare's 1,000 by default. dnsRecordsPerZone: 3,500 by default (the
 * Pro/Business plan figure). vcpus: the EC2 On-Demand Standard vCPU limit used only when the
 * Service Quotas API cannot be read (undefined: then the EC2 check is skipped with a notice).
 */
export interface QuotaLimits {
  tunnelsPerAccount: number;
  dnsRecordsPerZone: number;
  vcpus: number | undefined;
}

export type ScheduledJob = 'plan' | 'drift' | 'sweep' | 'apply';
export type Schedules = Partial<Record<ScheduledJob, string>>;

/** Rate budgets (requests per second with a burst) and concurrency, per API family. */
export interface RateBudget {
  perSecond: number;
  burst: number;
}
export interface Budgets {
  concurrency: number;
  ec2: { describe: RateBudget; mutate: RateBudget; runInstances: RateBudget; terminateInstances: RateBudget; authorizeIngress: RateBudget };
  secretsManager: RateBudget;
  ssm: RateBudget;
  /** Cloudflare: requests per window (1,200 per 300 s published), shared by every call. */
  cloudflare: { requests: number; windowSeconds: number };
}

export interface TenantSpec {
  apiVersion: string;
  slug: string;
  orgId: string;
  canary: boolean;
  power: Power;
  deletionProtection: boolean;
  instanceType: string | undefined;
}

export interface WorkspaceSpec {
  apiVersion: string;
  /** The file name without .yaml; unique within its tenant. */
  name: string;
  id: string;
  runtime: string;
  tier: string;
  power: Power;
  image: string | undefined;
}

/** What a workspace resolves to after the tier table, clamp, floors and pins are applied. */
export interface EffectiveWorkspace {
  tier: string;
  instanceType: string;
  volumeGb: number;
  ami: string;
  /** Set when a runtime image pin (or the workspace's own image) selects the containerised path. */
  image: string | undefined;
}

export interface DesiredWorkspace {
  spec: WorkspaceSpec;
  effective: EffectiveWorkspace;
  source: SourceLocation;
}

export interface EffectiveTenant {
  instanceType: string;
  volumeGb: number;
  ami: string;
  /** canaryTenantImage for canary tenants when set, else tenantImage. */
  image: string;
}

export interface DesiredTenant {
  spec: TenantSpec;
  effective: EffectiveTenant;
  workspaces: DesiredWorkspace[];
  source: SourceLocation;
}

export interface DesiredState {
  fleet: FleetSpec;
  tenants: DesiredTenant[];
  /** sha256 over the canonical JSON of fleet + tenants; recorded in saved plans. */
  hash: string;
  /** HEAD of the fleet repository when it is a git work tree. */
  commit: string | undefined;
  /**
   * Set when only some tenants were loaded (loadFleet's `only`, e.g. plan --changed-since):
   * `tenants` holds the requested slugs that exist. A requested slug missing from `tenants`
   * was removed from the repository; tenants outside `slugs` are unknown here and must never
   * be planned for deletion.
   */
  partial?: { slugs: string[] };
}
