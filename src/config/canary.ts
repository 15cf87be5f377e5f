/**
 * The canary account's variables (src/accounts.ts): CANARY_ROLE_ARN, CANARY_REGION, CANARY_VPC_ID,
 * CANARY_SUBNET_ID (all four or none), and its own wiring in the style of the main account's —
 * CANARY_EIC_ENDPOINT_SG_ID (EIC_ENDPOINT_SG_ID's counterpart) and CANARY_TENANT_IAM_PROFILE
 * (EC2_TENANT_IAM_PROFILE's), each warned about loudly when the account is configured without it.
 */
import type { Diagnostic } from '../desired/diagnostics.js';

/** The canary account (src/accounts.ts): where canary tenants live when all four variables are set. */
export interface CanaryWiring {
  roleArn: string;
  region: string;
  vpcId: string;
  subnetId: string;
  /** CANARY_EIC_ENDPOINT_SG_ID: the canary account's EIC endpoint group (EIC_ENDPOINT_SG_ID's counterpart). */
  eicEndpointSecurityGroupId: string | undefined;
  /** CANARY_TENANT_IAM_PROFILE, else EC2_TENANT_IAM_PROFILE's name (instance profiles are per account). */
  tenantIamProfile: string | undefined;
}

const NAMES = ['CANARY_ROLE_ARN', 'CANARY_REGION', 'CANARY_VPC_ID', 'CANARY_SUBNET_ID'] as const;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;
const REGION = /^[a-z]{2}(?:-[a-z]+)+-[0-9]$/;

interface Readers {
  /** A non-secret identifier, checked against its format (env.ts ID_FORMATS). */
  id(name: string): string | undefined;
  get(name: string): string | undefined;
  say(severity: Diagnostic['severity'], variable: string, message: string): void;
}

/** Reads the canary account; `tenantIamProfile` is EC2_TENANT_IAM_PROFILE (the profile name it falls back to). */
export function readCanary(r: Readers, tenantIamProfile: string | undefined): CanaryWiring | undefined {
  const values = NAMES.map((n) => r.id(n));
  const set = values.filter((v) => v !== undefined).length;
  if (set > 0 && set < NAMES.length) {
    const missing = NAMES.filter((_, i) => values[i] === undefined);
    r.say('error', missing[0]!, `The canary account settings are incomplete: set all four of ${NAMES.join(', ')} or none (missing ${missing.join(', ')}).`);
  }
  const eic = r.id('CANARY_EIC_ENDPOINT_SG_ID');
  const profile = r.get('CANARY_TENANT_IAM_PROFILE');
  if (set === 0) {
    for (const [name, value] of [
      ['CANARY_EIC_ENDPOINT_SG_ID', eic],
      ['CANARY_TENANT_IAM_PROFILE', profile],
    ] as const) {
      if (value) r.say('warning', name, `${name} is ignored: no canary account is configured (${NAMES.join(', ')}).`);
    }
    return undefined;
  }
  if (set < NAMES.length) return undefined;
  if (!eic)
    r.say(
      'warning',
      'CANARY_EIC_ENDPOINT_SG_ID',
      'CANARY_EIC_ENDPOINT_SG_ID is not set, so no security group in the canary account admits its EC2 Instance Connect endpoint and the terminal will fail to open its tunnel for canary tenants.',
    );
  if (!profile)
    r.say(
      'warning',
      'CANARY_TENANT_IAM_PROFILE',
      `CANARY_TENANT_IAM_PROFILE is not set, so canary instances get EC2_TENANT_IAM_PROFILE's name${tenantIamProfile ? ` (${tenantIamProfile})` : ''}: instance profiles are per account, and without one of that name in the canary account canary instances cannot read their bootstrap bundle.`,
    );
  const [roleArn, region, vpcId, subnetId] = values as string[];
  return { roleArn: roleArn!, region: region!, vpcId: vpcId!, subnetId: subnetId!, eicEndpointSecurityGroupId: eic, tenantIamProfile: profile ?? tenantIamProfile };
}

/**
 * The canary account alone, for plan (which goes on without the provisioning wiring): set when
 * all four variables are set and valid (readWiring reports them otherwise).
 */
export function canaryAccountSettings(env: Record<string, string | undefined>): Pick<CanaryWiring, 'roleArn' | 'region'> | undefined {
  const roleArn = env.CANARY_ROLE_ARN?.trim();
  const region = env.CANARY_REGION?.trim();
  const vpcId = env.CANARY_VPC_ID?.trim();
  const subnetId = env.CANARY_SUBNET_ID?.trim();
  if (!roleArn || !region || !vpcId || !subnetId) return undefined;
  if (!ROLE_ARN.test(roleArn) || !REGION.test(region)) return undefined;
  return { roleArn, region };
}
