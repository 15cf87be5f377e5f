/**
 * What every act step receives. Steps never read process.env or construct clients: the executor
 * builds one ActContext per run, so tests inject fast clocks, an in-memory audit sink and a gate
 * that counts calls, and the product injects rate budgets and the audit store.
 */
import { accountOf, type Account } from '../accounts.js';
import type { AwsClients } from '../aws/clients.js';
import type { AuditKind, AuditState } from '../changeset/model.js';
import type { CloudflareContext } from '../cloudflare/client.js';
import type { Wiring } from '../config/env.js';
import type { FleetSpec } from '../desired/model.js';
import type { PlanSettings } from '../plan/intent.js';
import type { AwsService, Clock } from '../rate/index.js';
import type { Redactor as ProcessRedactor } from '../redact.js';
import { ConfigError } from '../errors.js';

export type { AwsService, Clock } from '../rate/index.js';
export { systemClock } from '../rate/index.js';

/**
 * The provisioning contract's wiring that act steps need (variable names in comments). A subset of
 * the full configuration in src/config; the executor maps that onto this shape.
 */
export interface ProvisionWiring {
  /** The account these clients and this network are in (src/accounts.ts); absent: main. */
  account?: Account;
  /** MOLECULE_ENV: stamped on everything, scopes every lookup. */
  environment: string;
  region: string;
  /** APP_DOMAIN: tenants are served at <slug>.<appDomain>. */
  appDomain: string;
  /** EC2_VPC_ID; when absent the legacy shared group (EC2_SECURITY_GROUP) is used instead. */
  vpcId: string | undefined;
  /** EC2_SUBNET_ID */
  subnetId: string | undefined;
  /** EC2_SECURITY_GROUP: legacy shared group, only used when there is no VPC id. */
  legacySecurityGroupId: string | undefined;
  /** EC2_TENANT_IAM_PROFILE: lets the instance read its bundle; required. */
  instanceProfileName: string;
  /** EIC_ENDPOINT_SG_ID: the only source allowed to reach tcp/22. Without it the terminal breaks. */
  eicSecurityGroupId: string | undefined;
  /** EC2_KEY_NAME */
  keyName: string | undefined;
  /** CP_BASE_URL: written into the bundle so the tenant can call home. */
  controlPlaneUrl: string | undefined;
  /**
   * TENANT_BACKUP_S3_PREFIX, TENANT_BACKUP_REPORT_URL: written into the bundle (unset: backups
   * stay off). Not secrets, but the report URL may carry a token, so it is redacted like one.
   */
  backup?: { s3Prefix: string | undefined; reportUrl: string | undefined };
  /** Secret values copied into each tenant's bootstrap bundle; never logged. */
  secrets: {
    /** SECRETS_ENCRYPTION_KEY (provisioning refuses to run without it). */
    encryptionKey: string;
    /** PROVISION_SHARED_SECRET */
    sharedSecret: string | undefined;
    /** GHCR_PULL_TOKEN */
    ghcrPullToken: string | undefined;
  };
}

/** The act steps' view of the full wiring read by src/config/env.ts. */
export function provisionWiring(w: Wiring): ProvisionWiring {
  return {
    environment: w.environment,
    region: w.region,
    appDomain: w.appDomain,
    vpcId: w.ec2.vpcId,
    subnetId: w.ec2.subnetId,
    legacySecurityGroupId: w.ec2.legacySecurityGroupId,
    instanceProfileName: w.ec2.tenantIamProfile,
    eicSecurityGroupId: w.ec2.eicEndpointSecurityGroupId,
    keyName: w.ec2.keyName,
    controlPlaneUrl: w.controlPlane.baseUrl,
    backup: { s3Prefix: w.backup.s3Prefix, reportUrl: w.backup.reportUrl },
    secrets: {
      encryptionKey: w.secrets.encryptionKey,
      sharedSecret: w.secrets.provisionSharedSecret,
      ghcrPullToken: w.secrets.ghcrPullToken,
    },
  };
}

/** The part of the wiring that is per account (the canary account has its own, CANARY_*). */
export type AccountWiring = Pick<ProvisionWiring, 'region' | 'vpcId' | 'subnetId' | 'legacySecurityGroupId' | 'instanceProfileName' | 'eicSecurityGroupId' | 'keyName'>;

/**
 * The canary account's wiring: CANARY_REGION, CANARY_VPC_ID, CANARY_SUBNET_ID,
 * CANARY_EIC_ENDPOINT_SG_ID, CANARY_TENANT_IAM_PROFILE (else EC2_TENANT_IAM_PROFILE's name). No
 * legacy shared group and no key pair: both are per account and have no canary variable.
 */
export function canaryWiring(w: Wiring): AccountWiring | undefined {
  const c = w.canary;
  if (!c) return undefined;
  return {
    region: c.region,
    vpcId: c.vpcId,
    subnetId: c.subnetId,
    legacySecurityGroupId: undefined,
    instanceProfileName: c.tenantIamProfile ?? w.ec2.tenantIamProfile,
    eicSecurityGroupId: c.eicEndpointSecurityGroupId,
    keyName: undefined,
  };
}

/** One account's clients, gate and wiring, as act steps get them for an action in that account. */
export interface AccountAct {
  aws: AwsClients;
  call: CallGate;
  wiring: AccountWiring;
}

/**
 * The context for acting in `account` (an action's intent's): the same run, with that account's
 * clients, gate and network wiring. Without a second account configured, every action is main's.
 */
export function actIn<C extends ActContext>(ctx: C, account: Account | undefined): C {
  const name = account ?? 'main';
  if (name === accountOf(ctx.wiring)) return ctx;
  const there = ctx.accounts?.[name];
  if (!there) {
    throw new ConfigError(`the action is in the ${name} account, but none is configured (CANARY_ROLE_ARN, CANARY_REGION, CANARY_VPC_ID, CANARY_SUBNET_ID)`, {
      operation: 'apply',
      resource: `${name} account`,
    });
  }
  return { ...ctx, aws: there.aws, call: there.call, wiring: { ...ctx.wiring, ...there.wiring, account: name } };
}

/**
 * Every cloud call goes through the gate: it is where rate budgets and throttle retries live
 * (src/rate createRateGate has this shape). `action` is the API action name so budgets are per API.
 */
export interface CallGate {
  aws<T>(service: AwsService, action: string, fn: () => Promise<T>): Promise<T>;
  cloudflare<T>(op: string, fn: () => Promise<T>): Promise<T>;
}

export type { AuditKind, AuditState } from '../changeset/model.js';

export interface AuditEvent {
  kind: AuditKind;
  /** Cloud id (instance id, group id, tunnel id, record id, secret name, command id). */
  resourceId: string;
  orgId: string;
  workspaceId?: string;
  state: AuditState;
  /** Non-secret facts (names, types, counts, error summaries that went through the redactor). */
  details?: Record<string, string | number | boolean>;
}

/** src/redact.ts's Redactor: every generated or read secret is registered before it can go anywhere. */
export type Redactor = Pick<ProcessRedactor, 'register' | 'redact'>;

export interface Deadlines {
  /** How long to wait for instances to reach `terminated` during a delete. */
  terminationMs: number;
  /** How long to wait for stop/start transitions. */
  powerMs: number;
  /** How long DeleteSecurityGroup may keep failing with DependencyViolation. */
  securityGroupMs: number;
  /** How long an SSM command may run before its instances count as failed. */
  commandMs: number;
  /** How long a root volume modification may take to reach `optimizing` (the new size is usable then). */
  volumeMs: number;
  /** Longest delay between polls (they start at ~250 ms and double up to this). */
  pollMs: number;
}

/**
 * The fleet settings act steps read: the platform port (ingress, the tenant group's rule) and the
 * deletion settings. A saved plan records them (`settings`), so apply needs no fleet repository.
 */
export interface ActFleet {
  tenant: Pick<FleetSpec['tenant'], 'platformPort'>;
  deletion: FleetSpec['deletion'];
}

export function actFleet(settings: PlanSettings): ActFleet {
  return { tenant: { platformPort: settings.platformPort }, deletion: { ...settings.deletion } };
}

export interface ActContext {
  wiring: ProvisionWiring;
  /** With a canary account: each account's clients, gate and wiring (actIn picks one per action). */
  accounts?: Partial<Record<Account, AccountAct>>;
  fleet: ActFleet;
  aws: AwsClients;
  cloudflare: CloudflareContext;
  call: CallGate;
  audit(event: AuditEvent): void;
  /** Loud operator warnings (e.g. EIC_ENDPOINT_SG_ID missing). Never given a secret. */
  warn(message: string): void;
  redactor: Redactor;
  /** The fleet repository commit being applied (GitCommit tag). */
  gitCommit: string | undefined;
  clock: Clock;
  deadlines: Deadlines;
}

export const DEFAULT_DEADLINES: Deadlines = {
  terminationMs: 10 * 60_000,
  powerMs: 10 * 60_000,
  securityGroupMs: 5 * 60_000,
  commandMs: 15 * 60_000,
  volumeMs: 15 * 60_000,
  pollMs: 5_000,
};

/** Deadlines for a fleet: the termination deadline is fleet.yaml's, the rest are defaults. */
export function deadlinesFor(fleet: Pick<ActFleet, 'deletion'>): Deadlines {
  return { ...DEFAULT_DEADLINES, terminationMs: fleet.deletion.terminationDeadlineSeconds * 1000 };
}
