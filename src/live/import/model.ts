/** What `tenantform import` observes of the control plane's fleet: plain data, no secret value. */
import type { Account } from '../../accounts.js';
import type { LiveDnsRecord, LiveInstance, LiveSecurityGroup, LiveTunnel } from '../model.js';

export interface ImportSecret {
  name: string;
  arn: string;
  tags: Record<string, string>;
}

/** An instance with its root volume's tags (undefined when the volume was not found). */
export type ImportInstance = LiveInstance & { rootVolumeTags: Record<string, string> | undefined };

export interface ImportWorkspace {
  workspaceId: string;
  runtime: string;
  instance: ImportInstance;
  securityGroup: LiveSecurityGroup | undefined;
}

export interface ImportTenant {
  orgId: string;
  slug: string;
  instance: ImportInstance;
  securityGroup: LiveSecurityGroup | undefined;
  workspaces: ImportWorkspace[];
  /** The control plane's bundle, under the operator's name template. */
  bundle: ImportSecret | undefined;
  /** The bundle under the contract's name: a copy an earlier (interrupted) adoption made. */
  contractBundle: ImportSecret | undefined;
  tunnel: LiveTunnel | undefined;
  dnsRecord: LiveDnsRecord | undefined;
  /** Found in the canary account (src/app/import-accounts.ts); absent: main. */
  account?: Account;
}

/** A resource the control plane left without what the contract needs; its org is held back. */
export interface ImportIncomplete {
  kind: 'instance' | 'securityGroup' | 'secret' | 'tunnel' | 'dnsRecord';
  id: string;
  role: 'tenant' | 'workspace';
  orgId: string | undefined;
  /** The contract tags it lacks (empty when what is wrong is not a tag). */
  missing: string[];
  reason: string;
}

export interface ImportObservation {
  tenants: ImportTenant[];
  incomplete: ImportIncomplete[];
  /** Tenants found whose instances all carry tenantform's tags already (adopted, or tenantform's own). */
  alreadyManaged: number;
}
