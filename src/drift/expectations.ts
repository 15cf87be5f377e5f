/**
 * What drift compares against, beyond the desired state: the wiring's part of "what tenantform
 * would have created", and the facts the deep reads and the listings brought. Plain data.
 */
import type { BackupSettings } from '../contract.js';
import type { BundleKeys, TunnelConfiguration } from '../live/deep/readers.js';

export interface DriftExpectations {
  environment: string;
  appDomain: string;
  platformPort: number;
  /** False on the legacy shared group (no EC2_VPC_ID): group rules and tags are not compared. */
  perTenantGroups: boolean;
  /** The VPC's CIDR (DescribeVpcs); undefined leaves the platform-port rule uncompared. */
  vpcCidr: string | undefined;
  /** EIC_ENDPOINT_SG_ID: the only source tcp/22 may come from. */
  eicGroupId: string | undefined;
  /** EC2_TENANT_IAM_PROFILE; undefined (a read-only job without it) leaves profiles uncompared. */
  iamProfile: string | undefined;
  /** TENANT_BACKUP_*, as apply writes them into each bundle (compared with its BackupConfig tag, as plan does); undefined: not compared. */
  backup?: BackupSettings;
  /** Keys a bootstrap bundle must hold a value for, from the contract and the wiring. */
  requiredBundleKeys: string[];
}

export interface DriftFacts {
  /** Org ids deep-checked in this run; the deep facts below are only read for them. */
  deepChecked: ReadonlySet<string>;
  tunnelConfigs: ReadonlyMap<string, TunnelConfiguration>;
  bundleKeys: ReadonlyMap<string, BundleKeys>;
  /** From the listings: instanceId → instance profile ARN, DNS record id → TTL. */
  instanceProfiles: ReadonlyMap<string, string | undefined>;
  recordTtls: ReadonlyMap<string, number | undefined>;
}

/** The bundle keys every tenant needs, plus those the wiring sets (apply writes them when set). */
export function requiredBundleKeys(wired: { sharedSecret: boolean; ghcrPullToken: boolean; controlPlaneUrl: boolean }): string[] {
  const keys = ['DB_PASSWORD', 'ADMIN_TOKEN', 'TUNNEL_TOKEN', 'SECRETS_ENCRYPTION_KEY', 'ORG_ID', 'ORG_SLUG'];
  if (wired.sharedSecret) keys.push('PROVISION_SHARED_SECRET');
  if (wired.ghcrPullToken) keys.push('GHCR_PULL_TOKEN');
  if (wired.controlPlaneUrl) keys.push('CP_BASE_URL');
  return keys.sort();
}
