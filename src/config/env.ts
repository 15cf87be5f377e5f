/**
 * The provisioning contract's environment: the variables the control plane read, typed, and
 * checked the way it checked them. Values that a pull request should change live in fleet.yaml;
 * when the environment also sets one of them, they must agree (region, environment, app domain)
 * or the environment's copy is ignored with a warning (images, instance type).
 *
 * Secret values are never put in a message: diagnostics name the variable only.
 */
import type { Diagnostic } from '../desired/diagnostics.js';
import type { Environment, FleetSpec } from '../desired/model.js';
import { readCanary, type CanaryWiring } from './canary.js';

export { canaryAccountSettings, type CanaryWiring } from './canary.js';

export interface Wiring {
  /** MOLECULE_ENV, else fleet.yaml's environment. */
  environment: Environment;
  /** AWS_REGION, else fleet.yaml's region. */
  region: string;
  /** APP_DOMAIN, else fleet.yaml's appDomain. */
  appDomain: string;
  ec2: {
    /** EC2_AMI: the default AMI when fleet.yaml sets no defaultAmi. */
    defaultAmi: string | undefined;
    /** EC2_VPC_ID: per-tenant security groups live here; without it the legacy shared group is used. */
    vpcId: string | undefined;
    /** EC2_SUBNET_ID */
    subnetId: string | undefined;
    /** EC2_SECURITY_GROUP: the legacy shared group, used only when EC2_VPC_ID is unset. */
    legacySecurityGroupId: string | undefined;
    /** EC2_KEY_NAME */
    keyName: string | undefined;
    /** EC2_TENANT_IAM_PROFILE: lets instances read their bootstrap bundle from Secrets Manager. */
    tenantIamProfile: string;
    /** EIC_ENDPOINT_SG_ID: the only source allowed to reach tcp/22; without it the terminal cannot open its tunnel. */
    eicEndpointSecurityGroupId: string | undefined;
    /** EC2_INSTANCE_TYPE as set in the environment (fleet.yaml's tenant.instanceType wins). */
    instanceType: string | undefined;
  };
  secrets: {
    /** SECRETS_ENCRYPTION_KEY: provisioning refuses to run without it. */
    encryptionKey: string;
    /** PROVISION_SHARED_SECRET */
    provisionSharedSecret: string | undefined;
    /** GHCR_PULL_TOKEN */
    ghcrPullToken: string | undefined;
  };
  controlPlane: {
    /** CP_BASE_URL */
    baseUrl: string | undefined;
    /** CP_ADMIN_API_TOKEN (secret) */
    adminApiToken: string | undefined;
  };
  cloudflare: {
    /** CLOUDFLARE_API_TOKEN (secret) */
    apiToken: string;
    /** CLOUDFLARE_ACCOUNT_ID */
    accountId: string;
    /** CLOUDFLARE_ZONE_ID */
    zoneId: string;
  };
  images: {
    /** TENANT_IMAGE / CANARY_TENANT_IMAGE as set in the environment (fleet.yaml wins). */
    tenantImage: string | undefined;
    canaryTenantImage: string | undefined;
  };
  /** CANARY_ROLE_ARN, CANARY_REGION, CANARY_VPC_ID, CANARY_SUBNET_ID: a second account, all four or none. */
  canary: CanaryWiring | undefined;
  backup: {
    /** TENANT_BACKUP_S3_PREFIX */
    s3Prefix: string | undefined;
    /** TENANT_BACKUP_REPORT_URL */
    reportUrl: string | undefined;
  };
}

export interface WiringResult {
  /** Undefined when any error was found. */
  wiring: Wiring | undefined;
  diagnostics: Diagnostic[];
}

const ID_FORMATS: Record<string, [RegExp, string]> = {
  EC2_VPC_ID: [/^vpc-[0-9a-f]{8,17}$/, 'a VPC id (vpc-…)'],
  EC2_SUBNET_ID: [/^subnet-[0-9a-f]{8,17}$/, 'a subnet id (subnet-…)'],
  EC2_SECURITY_GROUP: [/^sg-[0-9a-f]{8,17}$/, 'a security group id (sg-…)'],
  EIC_ENDPOINT_SG_ID: [/^sg-[0-9a-f]{8,17}$/, 'a security group id (sg-…)'],
  CANARY_EIC_ENDPOINT_SG_ID: [/^sg-[0-9a-f]{8,17}$/, 'a security group id (sg-…)'],
  CANARY_VPC_ID: [/^vpc-[0-9a-f]{8,17}$/, 'a VPC id (vpc-…)'],
  CANARY_SUBNET_ID: [/^subnet-[0-9a-f]{8,17}$/, 'a subnet id (subnet-…)'],
  CANARY_ROLE_ARN: [/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, 'an IAM role ARN (arn:aws:iam::<account>:role/<name>)'],
  CANARY_REGION: [/^[a-z]{2}(?:-[a-z]+)+-[0-9]$/, 'an AWS region name such as us-east-2'],
  AWS_REGION: [/^[a-z]{2}(?:-[a-z]+)+-[0-9]$/, 'an AWS region name such as us-east-2'],
  CLOUDFLARE_ACCOUNT_ID: [/^[0-9a-f]{32}$/, 'a Cloudflare account id (32 hexadecimal digits)'],
  CLOUDFLARE_ZONE_ID: [/^[0-9a-f]{32}$/, 'a Cloudflare zone id (32 hexadecimal digits)'],
};

/** Reads and checks the wiring; `fleet` (when it loaded) is compared with the variables that duplicate it. */
/**
 * What the wiring is compared with: fleet.yaml when it loaded, or a saved plan's environment,
 * region and app domain when apply runs a plan without the fleet repository (no image or
 * instance type then: those are the plan's, and are not compared).
 */
export type WiringFleet = Pick<FleetSpec, 'environment' | 'region' | 'appDomain'> & Partial<Pick<FleetSpec, 'tenantImage' | 'canaryTenantImage' | 'tenant'>>;

export function readWiring(env: NodeJS.ProcessEnv, fleet?: WiringFleet): WiringResult {
  const diagnostics: Diagnostic[] = [];
  const say = (severity: Diagnostic['severity'], variable: string, message: string) => diagnostics.push({ severity, file: '', line: 0, col: 0, path: variable, message });
  const get = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value ? value : undefined;
  };
  /** A non-secret identifier, checked against its format. */
  const id = (name: string): string | undefined => {
    const value = get(name);
    const format = ID_FORMATS[name];
    if (value !== undefined && format && !format[0].test(value)) say('error', name, `${name} is ${JSON.stringify(value)}, which is not ${format[1]}.`);
    return value;
  };
  const url = (name: string): string | undefined => {
    const value = get(name);
    if (value !== undefined && !URL.canParse(value)) say('error', name, `${name} is not a URL.`);
    return value;
  };

  const encryptionKey = get('SECRETS_ENCRYPTION_KEY');
  if (!encryptionKey)
    say('error', 'SECRETS_ENCRYPTION_KEY', 'SECRETS_ENCRYPTION_KEY is not set, so provisioning is disabled: every bootstrap bundle is encrypted with it.');
  const tenantIamProfile = get('EC2_TENANT_IAM_PROFILE');
  if (!tenantIamProfile)
    say(
      'error',
      'EC2_TENANT_IAM_PROFILE',
      'EC2_TENANT_IAM_PROFILE is not set: Secrets Manager + IAM instance profile are required, or instances cannot read their bootstrap bundle.',
    );

  const vpcId = id('EC2_VPC_ID');
  const legacySecurityGroupId = id('EC2_SECURITY_GROUP');
  if (!vpcId) {
    say(
      'warning',
      'EC2_VPC_ID',
      legacySecurityGroupId
        ? 'EC2_VPC_ID is not set, so the shared security group fallback (EC2_SECURITY_GROUP) is used and every tenant shares one group.'
        : 'EC2_VPC_ID is not set and neither is EC2_SECURITY_GROUP, so instances have no security group to get: apply refuses (exit 1, before any change) to create or repair any tenant or workspace. Set EC2_VPC_ID for per-tenant security groups.',
    );
  }
  const subnetId = id('EC2_SUBNET_ID');
  const eic = id('EIC_ENDPOINT_SG_ID');
  if (!eic)
    say(
      'warning',
      'EIC_ENDPOINT_SG_ID',
      'EIC_ENDPOINT_SG_ID is not set, so no security group admits the EC2 Instance Connect endpoint and the terminal will fail to open its tunnel.',
    );

  const cloudflare = { apiToken: get('CLOUDFLARE_API_TOKEN'), accountId: id('CLOUDFLARE_ACCOUNT_ID'), zoneId: id('CLOUDFLARE_ZONE_ID') };
  for (const [name, value] of [
    ['CLOUDFLARE_API_TOKEN', cloudflare.apiToken],
    ['CLOUDFLARE_ACCOUNT_ID', cloudflare.accountId],
    ['CLOUDFLARE_ZONE_ID', cloudflare.zoneId],
  ] as const) {
    if (!value) say('error', name, `${name} is not set; tenants are reached through Cloudflare Tunnels, which cannot be created without it.`);
  }

  const canary = readCanary({ id, get, say }, tenantIamProfile);

  const environment = get('MOLECULE_ENV');
  if (environment !== undefined && !['dev', 'staging', 'prod'].includes(environment)) {
    say('error', 'MOLECULE_ENV', `MOLECULE_ENV is ${JSON.stringify(environment)}; it must be dev, staging or prod.`);
  }
  const region = id('AWS_REGION');
  const appDomain = get('APP_DOMAIN');
  const tenantImage = get('TENANT_IMAGE');
  const canaryTenantImage = get('CANARY_TENANT_IMAGE');
  const instanceType = get('EC2_INSTANCE_TYPE');
  if (fleet) {
    const mustAgree: [string, string | undefined, string, string][] = [
      ['MOLECULE_ENV', environment, 'environment', fleet.environment],
      ['AWS_REGION', region, 'region', fleet.region],
      ['APP_DOMAIN', appDomain?.toLowerCase(), 'appDomain', fleet.appDomain],
    ];
    for (const [name, value, key, declared] of mustAgree) {
      if (value !== undefined && value !== declared)
        say('error', name, `${name} is ${value} but fleet.yaml declares ${key} ${declared}; point the environment at the fleet it provisions.`);
    }
    const ignored: [string, string | undefined, string, string | undefined][] = fleet.tenant
      ? [
          ['TENANT_IMAGE', tenantImage, 'tenantImage', fleet.tenantImage],
          ['CANARY_TENANT_IMAGE', canaryTenantImage, 'canaryTenantImage', fleet.canaryTenantImage],
          ['EC2_INSTANCE_TYPE', instanceType, 'tenant.instanceType', fleet.tenant.instanceType],
        ]
      : [];
    for (const [name, value, key, declared] of ignored) {
      if (value !== undefined && value !== declared) say('warning', name, `${name} is ignored: fleet.yaml's ${key} (${declared ?? 'unset'}) is what gets deployed.`);
    }
  }

  const provisionSharedSecret = get('PROVISION_SHARED_SECRET');
  const baseUrl = url('CP_BASE_URL');
  const reportUrl = url('TENANT_BACKUP_REPORT_URL');

  if (diagnostics.some((d) => d.severity === 'error')) return { wiring: undefined, diagnostics };
  const resolvedEnvironment = (environment ?? fleet?.environment) as Environment | undefined;
  const resolvedRegion = region ?? fleet?.region;
  const resolvedDomain = appDomain?.toLowerCase() ?? fleet?.appDomain;
  if (!resolvedEnvironment || !resolvedRegion || !resolvedDomain) {
    for (const [name, value] of [
      ['MOLECULE_ENV', resolvedEnvironment],
      ['AWS_REGION', resolvedRegion],
      ['APP_DOMAIN', resolvedDomain],
    ] as const) {
      if (!value) say('error', name, `${name} is not set and there is no valid fleet.yaml to take it from.`);
    }
    return { wiring: undefined, diagnostics };
  }
  return {
    wiring: {
      environment: resolvedEnvironment,
      region: resolvedRegion,
      appDomain: resolvedDomain,
      ec2: {
        defaultAmi: get('EC2_AMI'),
        vpcId,
        subnetId,
        legacySecurityGroupId,
        keyName: get('EC2_KEY_NAME'),
        tenantIamProfile: tenantIamProfile!,
        eicEndpointSecurityGroupId: eic,
        instanceType,
      },
      secrets: { encryptionKey: encryptionKey!, provisionSharedSecret, ghcrPullToken: get('GHCR_PULL_TOKEN') },
      controlPlane: { baseUrl, adminApiToken: get('CP_ADMIN_API_TOKEN') },
      cloudflare: { apiToken: cloudflare.apiToken!, accountId: cloudflare.accountId!, zoneId: cloudflare.zoneId! },
      images: { tenantImage, canaryTenantImage },
      canary,
      backup: { s3Prefix: get('TENANT_BACKUP_S3_PREFIX'), reportUrl },
    },
    diagnostics,
  };
}

/**
 * The Cloudflare credentials alone, for the read-only commands (plan, sweep's dry run, import's
 * listing) that go on without the provisioning wiring: readWiring has already reported a missing
 * one as an error, so an empty string here never reaches Cloudflare.
 */
export function cloudflareCredentials(env: Record<string, string | undefined>): Wiring['cloudflare'] {
  return {
    apiToken: env.CLOUDFLARE_API_TOKEN?.trim() ?? '',
    accountId: env.CLOUDFLARE_ACCOUNT_ID?.trim() ?? '',
    zoneId: env.CLOUDFLARE_ZONE_ID?.trim() ?? '',
  };
}
