/**
 * The one vocabulary of resource kinds. The plan's step resources, the audit events' kinds, the
 * store's row kinds and the live objects a plan fingerprints are all subsets of RESOURCE_KINDS,
 * derived here as types and filtered const lists, so a kind has one name everywhere and no regex
 * or string bridge maps one vocabulary onto another.
 *
 * This is the pure half of the per-kind registry (names, labels, which vocabularies a kind takes
 * part in, which observer reads it, which cloud operations act on it); it imports nothing, so
 * the planner, the renderers and the store can all read it. How a kind is fingerprinted is in
 * src/plan/kinds.ts (it needs the inventory types); how it is ensured and deleted is in
 * src/apply/kinds.ts (the act side). Adding a kind: an entry here, one in each of those two
 * (the compiler asks for them), its observer in src/live and its act module in src/apply.
 */

export const RESOURCE_KINDS = ['staleArtifacts', 'tunnel', 'dnsRecord', 'ingress', 'secret', 'securityGroup', 'instance', 'volume', 'tags', 'command'] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];

/** Where a kind lives; `none` for a kind that is an act step only (no live object of its own). */
export type KindService = 'ec2' | 'secretsmanager' | 'ssm' | 'cloudflare' | 'none';

export interface KindInfo {
  /** How renderers name one and many of it ("2 security groups"). */
  label: readonly [singular: string, plural: string];
  service: KindService;
  /**
   * The src/live observer that reads it into the inventory (undefined: not observed on its own;
   * a volume is read as its instance's root size, tags with their resource).
   */
  observer: string | undefined;
  /** A live object with an id in the inventory, which a saved plan fingerprints (src/plan/kinds.ts). */
  fingerprinted: boolean;
  /** Act steps report events on it (AuditEvent.kind). */
  audited: boolean;
  /** Audit rows are filed under this kind (a command's row goes on the instance it ran on). */
  storedAs: ResourceKind | undefined;
  /**
   * The cloud operations that act on this kind, as the act steps name them (an AWS action or a
   * Cloudflare operation name): a failed action's audit row is filed under the kind of the
   * operation that failed. Operations not listed anywhere file the failure on the instance.
   */
  operations: readonly string[];
  /** How the kind's live ids begin, where the cloud gives them a fixed prefix (EC2's `i-`, `sg-`). */
  idPrefix?: string;
}

export const KINDS = {
  staleArtifacts: {
    label: ['stale artifact', 'stale artifacts'],
    service: 'cloudflare',
    observer: undefined,
    fingerprinted: false,
    audited: false,
    storedAs: undefined,
    operations: [],
  },
  tunnel: {
    label: ['tunnel', 'tunnels'],
    service: 'cloudflare',
    observer: 'observeTunnels',
    fingerprinted: true,
    audited: true,
    storedAs: 'tunnel',
    operations: ['create tunnel', 'delete tunnel', 'rename tunnel', 'list tunnels', 'get tunnel token', 'clean tunnel connections'],
  },
  dnsRecord: {
    label: ['DNS record', 'DNS records'],
    service: 'cloudflare',
    observer: 'observeDnsRecords',
    fingerprinted: true,
    audited: true,
    storedAs: 'dnsRecord',
    operations: ['create DNS record', 'delete DNS record', 'update DNS record', 'list DNS records'],
  },
  ingress: {
    label: ['ingress configuration', 'ingress configurations'],
    service: 'cloudflare',
    observer: undefined,
    fingerprinted: false,
    audited: true,
    storedAs: 'ingress',
    operations: ['get tunnel configuration', 'update tunnel configuration'],
  },
  secret: {
    label: ['secret bundle', 'secret bundles'],
    service: 'secretsmanager',
    observer: 'observeSecrets',
    fingerprinted: true,
    audited: true,
    storedAs: 'secret',
    operations: ['CreateSecret', 'DeleteSecret', 'DescribeSecret', 'GetSecretValue', 'PutSecretValue', 'RestoreSecret', 'TagResource'],
  },
  securityGroup: {
    label: ['security group', 'security groups'],
    service: 'ec2',
    observer: 'observeSecurityGroups',
    fingerprinted: true,
    audited: true,
    storedAs: 'securityGroup',
    idPrefix: 'sg-',
    operations: ['CreateSecurityGroup', 'DeleteSecurityGroup', 'DescribeSecurityGroups', 'AuthorizeSecurityGroupIngress', 'RevokeSecurityGroupIngress'],
  },
  instance: {
    label: ['instance', 'instances'],
    service: 'ec2',
    observer: 'observeInstances',
    fingerprinted: true,
    audited: true,
    storedAs: 'instance',
    idPrefix: 'i-',
    operations: [
      'RunInstances',
      'TerminateInstances',
      'StartInstances',
      'StopInstances',
      'ModifyInstanceAttribute',
      'DescribeInstances',
      'DescribeImages',
      'AssociateIamInstanceProfile',
      'ReplaceIamInstanceProfileAssociation',
      'DescribeIamInstanceProfileAssociations',
    ],
  },
  volume: {
    label: ['volume', 'volumes'],
    service: 'ec2',
    observer: 'observeVolumes',
    fingerprinted: false,
    audited: false,
    storedAs: undefined,
    operations: ['DescribeVolumes', 'DescribeVolumesModifications', 'ModifyVolume'],
  },
  tags: { label: ['tag set', 'tag sets'], service: 'none', observer: undefined, fingerprinted: false, audited: false, storedAs: undefined, operations: [] },
  command: {
    label: ['command', 'commands'],
    service: 'ssm',
    observer: undefined,
    fingerprinted: false,
    audited: true,
    storedAs: 'instance',
    operations: ['SendCommand', 'GetCommandInvocation'],
  },
} as const satisfies Record<ResourceKind, KindInfo>;

type Entry<K extends ResourceKind> = (typeof KINDS)[K];
type KindsWhere<P extends 'audited' | 'fingerprinted', V> = { [K in ResourceKind]: Entry<K>[P] extends V ? K : never }[ResourceKind];

/** The sub-resources a plan step touches: every kind. */
export type StepResource = ResourceKind;
export const STEP_RESOURCES: readonly StepResource[] = RESOURCE_KINDS;

/** What act steps report events on (src/changeset/model.ts AuditEvent.kind). */
export type AuditKind = KindsWhere<'audited', true>;
export const AUDIT_KINDS = RESOURCE_KINDS.filter((k): k is AuditKind => KINDS[k].audited);

/** What the audit store files rows under. */
export type StoredKind = NonNullable<{ [K in ResourceKind]: Entry<K>['storedAs'] }[ResourceKind]>;
export const STORED_KINDS = [...new Set(RESOURCE_KINDS.map((k) => KINDS[k].storedAs).filter((k): k is StoredKind => k !== undefined))];

/** Live objects with ids that a saved plan fingerprints (src/plan/kinds.ts). */
export type FingerprintedKind = KindsWhere<'fingerprinted', true>;
export const FINGERPRINTED_KINDS = RESOURCE_KINDS.filter((k): k is FingerprintedKind => KINDS[k].fingerprinted);

export function kindLabel(kind: ResourceKind, count = 1): string {
  return KINDS[kind].label[count === 1 ? 0 : 1];
}

export function isResourceKind(value: string): value is ResourceKind {
  return (RESOURCE_KINDS as readonly string[]).includes(value);
}

const KIND_OF_OPERATION: ReadonlyMap<string, ResourceKind> = new Map(RESOURCE_KINDS.flatMap((k) => KINDS[k].operations.map((op) => [op, k] as const)));

/** The kind the named operation acts on, from the registry's explicit operation lists; undefined when no kind lists it. */
export function kindOfOperation(operation: string): ResourceKind | undefined {
  return KIND_OF_OPERATION.get(operation);
}

const BY_ID_PREFIX: readonly (readonly [string, ResourceKind])[] = RESOURCE_KINDS.flatMap((k) => {
  const prefix = (KINDS[k] as KindInfo).idPrefix;
  return prefix === undefined ? [] : [[prefix, k] as const];
});

/** The kind of a live id whose cloud prefixes its ids (an EC2 instance or group); undefined for any other id (a secret ARN, a tunnel UUID). */
export function kindOfLiveId(id: string): ResourceKind | undefined {
  return BY_ID_PREFIX.find(([prefix]) => id.startsWith(prefix))?.[1];
}
