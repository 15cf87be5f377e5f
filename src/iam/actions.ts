/**
 * Every AWS action tenantform makes, with how the IAM policy may grant it: the one source of truth
 * that `tenantform iam-policy` renders (src/iam/policy.ts) and that the test suite checks against
 * the actions it sees at the fault proxy (test/iam/record-check.global.ts). An action missing here
 * is denied in production; one listed here but never made is a privilege nobody needs.
 *
 * The kind registry (src/kinds.ts) lists each kind's operations; every AWS operation it names must
 * be here with the same service (test/iam/actions.test.ts). The extra rows are the wiring reads
 * (apply's preflight), the fleet-wide secret listing, tagging and the implied iam:PassRole.
 */
import type { ResourceKind } from '../kinds.js';

export type AwsService = 'ec2' | 'secretsmanager' | 'ssm' | 'iam' | 'servicequotas' | 'sts';

/**
 * How a statement may scope the action:
 * - `read`: Describe/List/Get calls that take no resource-level permission or condition (Resource "*").
 * - `tagged`: mutations only on resources tagged ManagedBy=tenantform (aws:ResourceTag/ManagedBy).
 * - `create`: creates only with the request tag ManagedBy=tenantform (aws:RequestTag/ManagedBy + aws:TagKeys).
 * - `tag`: tag writes, allowed on tenantform's resources and, on others, only when the write sets
 *   ManagedBy=tenantform (adoption, tag-on-create); see policy.ts.
 * - `secret`: Secrets Manager calls on one bundle: by name prefix, and tagged unless it creates.
 * - `command`: ssm:SendCommand, on tagged instances and the one document tenantform runs.
 * - `instanceProfile`: iam:GetInstanceProfile / iam:PassRole, on the tenant instance profile and its role only.
 * - `assumeRole`: sts:AssumeRole on CANARY_ROLE_ARN only (the canary account, src/accounts.ts).
 */
export type ConditionKind = 'read' | 'tagged' | 'create' | 'tag' | 'secret' | 'command' | 'instanceProfile' | 'assumeRole';

export interface AwsAction {
  service: AwsService;
  action: string;
  condition: ConditionKind;
  /** The registry kind that lists it (src/kinds.ts), or undefined for a wiring/tagging row. */
  kind: ResourceKind | undefined;
  /** IAM checks it, but it is no API call of its own (iam:PassRole on RunInstances): the record check cannot see it. */
  implied?: boolean;
  why: string;
}

/** The SSM document tenantform's commands run (src/apply/command.ts). */
export const SSM_DOCUMENT = 'AWS-RunShellScript';

export const AWS_ACTIONS: readonly AwsAction[] = [
  // EC2: observe
  { service: 'ec2', action: 'DescribeInstances', condition: 'read', kind: 'instance', why: 'observe instances' },
  { service: 'ec2', action: 'DescribeImages', condition: 'read', kind: 'instance', why: 'resolve and check AMIs' },
  { service: 'ec2', action: 'DescribeSecurityGroups', condition: 'read', kind: 'securityGroup', why: 'observe groups, check the EIC endpoint group' },
  { service: 'ec2', action: 'DescribeVolumes', condition: 'read', kind: 'volume', why: 'root volume sizes' },
  { service: 'ec2', action: 'DescribeVolumesModifications', condition: 'read', kind: 'volume', why: 'wait for a resize' },
  { service: 'ec2', action: 'DescribeVpcs', condition: 'read', kind: undefined, why: 'wiring preflight, VPC CIDR for rules' },
  { service: 'ec2', action: 'DescribeSubnets', condition: 'read', kind: undefined, why: 'wiring preflight' },
  { service: 'ec2', action: 'DescribeInstanceTypes', condition: 'read', kind: undefined, why: 'vCPUs per instance type for the quota check' },
  { service: 'ec2', action: 'DescribeIamInstanceProfileAssociations', condition: 'read', kind: 'instance', why: "an instance's profile association id (drift --fix)" },
  // EC2: act
  { service: 'ec2', action: 'RunInstances', condition: 'create', kind: 'instance', why: 'launch tenant and workspace instances (tagged on create)' },
  { service: 'ec2', action: 'StartInstances', condition: 'tagged', kind: 'instance', why: 'power on' },
  { service: 'ec2', action: 'StopInstances', condition: 'tagged', kind: 'instance', why: 'power off, resize' },
  { service: 'ec2', action: 'TerminateInstances', condition: 'tagged', kind: 'instance', why: 'delete, replace' },
  { service: 'ec2', action: 'ModifyInstanceAttribute', condition: 'tagged', kind: 'instance', why: 'instance type, security groups' },
  { service: 'ec2', action: 'AssociateIamInstanceProfile', condition: 'tagged', kind: 'instance', why: 'drift --fix: the tenant profile where none is' },
  { service: 'ec2', action: 'ReplaceIamInstanceProfileAssociation', condition: 'tagged', kind: 'instance', why: 'drift --fix: swap to the tenant profile' },
  { service: 'ec2', action: 'ModifyVolume', condition: 'tagged', kind: 'volume', why: 'grow the root volume' },
  { service: 'ec2', action: 'CreateSecurityGroup', condition: 'create', kind: 'securityGroup', why: 'per-org group (tagged on create)' },
  { service: 'ec2', action: 'DeleteSecurityGroup', condition: 'tagged', kind: 'securityGroup', why: 'cascade delete' },
  { service: 'ec2', action: 'AuthorizeSecurityGroupIngress', condition: 'tagged', kind: 'securityGroup', why: 'group rules' },
  { service: 'ec2', action: 'RevokeSecurityGroupIngress', condition: 'tagged', kind: 'securityGroup', why: 'group rules' },
  { service: 'ec2', action: 'CreateTags', condition: 'tag', kind: undefined, why: 'tags on create, tag updates, drift fixes' },
  // Secrets Manager
  { service: 'secretsmanager', action: 'ListSecrets', condition: 'read', kind: undefined, why: 'observe bundles (takes no resource)' },
  { service: 'secretsmanager', action: 'CreateSecret', condition: 'secret', kind: 'secret', why: 'bootstrap bundle (tagged on create)' },
  { service: 'secretsmanager', action: 'DescribeSecret', condition: 'secret', kind: 'secret', why: 'bundle state' },
  { service: 'secretsmanager', action: 'GetSecretValue', condition: 'secret', kind: 'secret', why: 'reuse the bundle on replace, deep drift' },
  { service: 'secretsmanager', action: 'PutSecretValue', condition: 'secret', kind: 'secret', why: 'bundle update' },
  { service: 'secretsmanager', action: 'DeleteSecret', condition: 'secret', kind: 'secret', why: 'cascade delete, sweep' },
  { service: 'secretsmanager', action: 'RestoreSecret', condition: 'secret', kind: 'secret', why: 're-create within the recovery window' },
  { service: 'secretsmanager', action: 'TagResource', condition: 'secret', kind: 'secret', why: 'tag updates, drift fixes' },
  // SSM
  { service: 'ssm', action: 'SendCommand', condition: 'command', kind: 'command', why: 'rollouts on running instances' },
  { service: 'ssm', action: 'GetCommandInvocation', condition: 'read', kind: 'command', why: 'command outcome (no resource-level permission)' },
  // Service Quotas
  { service: 'servicequotas', action: 'GetServiceQuota', condition: 'read', kind: undefined, why: 'the running On-Demand Standard vCPU quota (L-1216C47A)' },
  // IAM
  { service: 'iam', action: 'GetInstanceProfile', condition: 'instanceProfile', kind: undefined, why: 'wiring preflight: the tenant profile exists' },
  { service: 'iam', action: 'PassRole', condition: 'instanceProfile', kind: undefined, implied: true, why: 'launch or (re)associate the tenant instance profile' },
  // STS
  { service: 'sts', action: 'AssumeRole', condition: 'assumeRole', kind: undefined, why: 'the canary account: credentials of CANARY_ROLE_ARN' },
];

export function iamActionName(a: Pick<AwsAction, 'service' | 'action'>): string {
  return `${a.service}:${a.action}`;
}
