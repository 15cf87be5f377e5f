/**
 * The inventory: what exists in AWS and Cloudflare carrying this environment's tags or names,
 * joined by OrgID and WorkspaceID. Plain data (JSON-serialisable) so it can be fingerprinted,
 * saved, and fed to the pure planner.
 *
 * With a canary account configured (src/accounts.ts), EC2 and Secrets Manager objects carry the
 * `account` they were observed in, and `accounts` says which accounts were observed (an account
 * whose role could not be assumed is listed unobserved with the error: its tenants are unknown,
 * never absent). Without one, neither is set and everything is in the main account.
 */
import type { Account, AccountObservation } from '../accounts.js';

export type InstanceState = 'pending' | 'running' | 'stopping' | 'stopped' | 'shutting-down' | 'terminated';

export interface LiveInstance {
  /** The AWS account it lives in; absent: main (src/accounts.ts). */
  account?: Account;
  instanceId: string;
  state: InstanceState;
  instanceType: string;
  imageId: string;
  /** Root volume size when observed (DescribeVolumes); undefined when not observed. */
  volumeGb: number | undefined;
  /** The root volume's id when observed; names the volume a grow-in-place modifies. */
  rootVolumeId?: string;
  securityGroupIds: string[];
  launchTime: string | undefined;
  tags: Record<string, string>;
}

/** One ingress permission, flattened to a single source. */
export interface LiveIngressRule {
  protocol: string;
  fromPort: number | undefined;
  toPort: number | undefined;
  /** `cidr:<v4>`, `cidr6:<v6>`, `sg:<group id>` or `pl:<prefix list id>`. */
  source: string;
}

export interface LiveSecurityGroup {
  /** The AWS account it lives in; absent: main (src/accounts.ts). */
  account?: Account;
  groupId: string;
  groupName: string;
  vpcId: string | undefined;
  tags: Record<string, string>;
  /**
   * Ingress rules as DescribeSecurityGroups lists them (the listing plan already makes carries
   * them); undefined when not observed, and then never compared.
   */
  ingress?: LiveIngressRule[];
}

export interface LiveSecret {
  /** The AWS account it lives in; absent: main (src/accounts.ts). */
  account?: Account;
  arn: string;
  name: string;
  /** Set when the secret is scheduled for deletion (restorable until then). */
  deletedDate: string | undefined;
  tags: Record<string, string>;
}

export interface LiveTunnel {
  id: string;
  name: string;
  createdAt: string | undefined;
}

export interface LiveDnsRecord {
  id: string;
  name: string;
  type: string;
  content: string;
  proxied: boolean;
  comment: string | undefined;
  tags: string[];
}

export interface LiveWorkspace {
  orgId: string;
  workspaceId: string;
  /** Non-terminated instances carrying this WorkspaceID (more than one means a duplicate). */
  instances: LiveInstance[];
  securityGroups: LiveSecurityGroup[];
}

export interface LiveTenant {
  orgId: string;
  /** From tags or names; the slug it was provisioned under. */
  slug: string | undefined;
  instances: LiveInstance[];
  securityGroups: LiveSecurityGroup[];
  secrets: LiveSecret[];
  tunnels: LiveTunnel[];
  dnsRecords: LiveDnsRecord[];
  workspaces: Record<string, LiveWorkspace>;
  /** True when any live resource of the tenant carries DeletionProtection=true. */
  deletionProtection: boolean;
}

export type ObservedService = 'ec2' | 'secretsmanager' | 'ssm' | 'cloudflare';

/** Something that carries our environment's tags or names but cannot be attributed to an org. */
export interface UnattributedResource {
  /** EC2 and Secrets Manager: the AWS account it lives in; absent: main. */
  account?: Account;
  service: ObservedService;
  kind: 'instance' | 'securityGroup' | 'secret' | 'tunnel' | 'dnsRecord';
  id: string;
  name: string | undefined;
  reason: string;
}

export interface Inventory {
  environment: string;
  observedAt: string;
  /** Which orgs were observed: 'all', or the org ids / slugs a scoped plan asked for. */
  scope: { kind: 'all' } | { kind: 'tenants'; orgIds: string[]; slugs: string[] };
  tenants: Record<string, LiveTenant>;
  unattributed: UnattributedResource[];
  /** Set when a canary account is configured: each account, observed or not (with why not). */
  accounts?: Partial<Record<Account, AccountObservation>>;
  /** API calls made while observing, per service; benchmarks and tests read these. */
  calls: Record<ObservedService, number>;
}
