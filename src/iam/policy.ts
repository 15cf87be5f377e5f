/**
 * The least-privilege IAM policy document, generated from the action table (src/iam/actions.ts).
 * Pure: ARNs are scoped by the given partition, region, account, environment and instance
 * profile/role, each `*` when not given.
 *
 * Condition scheme (IAM evaluates these; see the README for what moto checks):
 * - Describe, List and GetCommandInvocation calls take no resource-level permission: Resource "*", no condition.
 * - Mutations of instances, volumes and groups: aws:ResourceTag/ManagedBy = tenantform.
 * - RunInstances and CreateSecurityGroup: the created instance/volume/group must carry the request
 *   tag ManagedBy=tenantform and only contract tag keys (aws:TagKeys); the other resources a launch
 *   touches (image, subnet, network interface, the VPC of a new group) carry no tenantform tag and
 *   are granted unconditioned.
 * - CreateTags: as part of those creates (ec2:CreateAction), on tenantform's own resources (never
 *   setting ManagedBy to anything else), or when the write sets ManagedBy=tenantform (adoption).
 * - Secrets Manager: secrets named `tenantform/<env>/…`; tagged ManagedBy=tenantform except
 *   CreateSecret (request tag) and the tags it writes.
 * - `import --adopt` (with `bundleName`, the template its --bundle-name takes): GetSecretValue on the
 *   control plane's bundles under their old name, outside `tenantform/<env>/…` and not tagged by
 *   tenantform: the template with `{env}` as the environment (else `*`), `{orgId}` and `{slug}` as
 *   `*`, and the six characters Secrets Manager appends to a name (`-??????`). Nothing else.
 * - ssm:SendCommand: instances tagged ManagedBy=tenantform (ssm:resourceTag) and the one document.
 * - iam:PassRole only for the tenant instance profile's role, only to EC2.
 */
import { InternalError } from '../errors.js';
import { MANAGED_BY, Tag, secretEnvPrefix } from '../contract.js';
import { AWS_ACTIONS, SSM_DOCUMENT, iamActionName, type AwsAction, type ConditionKind } from './actions.js';

export interface PolicyScope {
  partition?: string;
  region?: string;
  account?: string;
  /** MOLECULE_ENV: narrows the secret prefix to that environment's bundles. */
  environment?: string;
  /** The tenant instance profile (EC2_TENANT_IAM_PROFILE). */
  instanceProfile?: string;
  /** The role inside that profile: the only role tenantform may pass. */
  instanceRole?: string;
  /** `import --adopt`'s --bundle-name template (`molecule/{env}/orgs/{orgId}/bootstrap`): grants reading the old bundles. */
  bundleName?: string;
  /** CANARY_ROLE_ARN: the only role the main account's credentials may assume. */
  canaryRoleArn?: string;
}

/** What a bundle-name template may hold: Secrets Manager's name characters and the placeholders, never an IAM wildcard. */
export const BUNDLE_TEMPLATE = /^(?:[A-Za-z0-9/_+=.@-]|\{(?:env|orgId|slug)\})+$/;

/** The secret-name pattern of a bundle-name template, as IAM matches it (placeholders → `*`). */
export function bundleNamePattern(template: string, environment: string | undefined): string {
  if (!BUNDLE_TEMPLATE.test(template) || !template.includes('{orgId}')) {
    throw new InternalError('a bundle-name template must hold {orgId} and only secret-name characters', { operation: 'generate the IAM policy', resource: template });
  }
  return template
    .replaceAll('{env}', environment ?? '*')
    .replaceAll('{orgId}', '*')
    .replaceAll('{slug}', '*');
}

type ConditionBlock = Record<string, Record<string, string | string[]>>;

export interface PolicyStatement {
  Sid: string;
  Effect: 'Allow';
  Action: string[];
  Resource: string | string[];
  Condition?: ConditionBlock;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

/** The tag keys tenantform ever writes (the contract's vocabulary). */
export const CONTRACT_TAG_KEYS: readonly string[] = Object.values(Tag);

const MANAGED = { [`aws:ResourceTag/${Tag.managedBy}`]: MANAGED_BY };
const CREATED = {
  StringEquals: { [`aws:RequestTag/${Tag.managedBy}`]: MANAGED_BY },
  'ForAllValues:StringEquals': { 'aws:TagKeys': [...CONTRACT_TAG_KEYS] },
};

function actionsOf(service: string, ...conditions: ConditionKind[]): string[] {
  return AWS_ACTIONS.filter((a) => a.service === service && conditions.includes(a.condition)).map(iamActionName);
}
/** Named rows of the table; a name not in it is a bug here, never a silent grant. */
function only(service: string, ...names: string[]): string[] {
  return names.map((n) => {
    const found = AWS_ACTIONS.find((a) => a.service === service && a.action === n);
    if (!found)
      throw new InternalError('the policy names an action the action table does not list', { operation: 'generate the IAM policy', resource: `${service}:${n}` });
    return iamActionName(found);
  });
}

export function iamPolicy(scope: PolicyScope = {}): PolicyDocument {
  const p = scope.partition ?? 'aws';
  const r = scope.region ?? '*';
  const a = scope.account ?? '*';
  const ec2 = (type: string) => `arn:${p}:ec2:${r}:${a}:${type}/*`;
  const owned = [ec2('instance'), ec2('volume'), ec2('security-group')];
  const secretPrefix = secretEnvPrefix(scope.environment ?? '*');
  const secrets = `arn:${p}:secretsmanager:${r}:${a}:secret:${secretPrefix}*`;
  const create = (names: string[]) => names.filter((n) => AWS_ACTIONS.some((x) => iamActionName(x) === n && x.condition === 'create'));

  const statements: PolicyStatement[] = [
    {
      Sid: 'ReadOnlyNoResourceLevel',
      Effect: 'Allow',
      Action: [...actionsOf('ec2', 'read'), ...actionsOf('secretsmanager', 'read'), ...actionsOf('ssm', 'read'), ...actionsOf('servicequotas', 'read')],
      Resource: '*',
    },
    { Sid: 'Ec2MutateManaged', Effect: 'Allow', Action: actionsOf('ec2', 'tagged'), Resource: owned, Condition: { StringEquals: MANAGED } },
    { Sid: 'Ec2CreateTagged', Effect: 'Allow', Action: create(actionsOf('ec2', 'create')), Resource: owned, Condition: CREATED },
    {
      Sid: 'Ec2LaunchUntaggedParts',
      Effect: 'Allow',
      Action: only('ec2', 'RunInstances'),
      Resource: [`arn:${p}:ec2:${r}::image/*`, `arn:${p}:ec2:${r}:${a}:image/*`, ec2('subnet'), ec2('network-interface'), ec2('security-group')],
    },
    { Sid: 'Ec2GroupInVpc', Effect: 'Allow', Action: only('ec2', 'CreateSecurityGroup'), Resource: ec2('vpc') },
    {
      Sid: 'Ec2TagOnCreate',
      Effect: 'Allow',
      Action: actionsOf('ec2', 'tag'),
      Resource: owned,
      Condition: { StringEquals: { 'ec2:CreateAction': AWS_ACTIONS.filter((x) => x.service === 'ec2' && x.condition === 'create').map((x) => x.action) } },
    },
    {
      Sid: 'Ec2TagManaged',
      Effect: 'Allow',
      Action: actionsOf('ec2', 'tag'),
      Resource: owned,
      Condition: { StringEquals: MANAGED, StringEqualsIfExists: { [`aws:RequestTag/${Tag.managedBy}`]: MANAGED_BY } },
    },
    { Sid: 'Ec2TagAdopt', Effect: 'Allow', Action: actionsOf('ec2', 'tag'), Resource: owned, Condition: CREATED },
    { Sid: 'SecretCreateTagged', Effect: 'Allow', Action: only('secretsmanager', 'CreateSecret', 'TagResource'), Resource: secrets, Condition: CREATED },
    {
      Sid: 'SecretManaged',
      Effect: 'Allow',
      Action: AWS_ACTIONS.filter((x) => x.service === 'secretsmanager' && x.condition === 'secret' && x.action !== 'CreateSecret').map(iamActionName),
      Resource: secrets,
      Condition: { StringEquals: MANAGED },
    },
    ...(scope.bundleName
      ? [
          {
            Sid: 'ImportReadControlPlaneBundles',
            Effect: 'Allow' as const,
            Action: only('secretsmanager', 'GetSecretValue'),
            Resource: `arn:${p}:secretsmanager:${r}:${a}:secret:${bundleNamePattern(scope.bundleName, scope.environment)}-??????`,
          },
        ]
      : []),
    {
      Sid: 'SsmCommandOnManagedInstances',
      Effect: 'Allow',
      Action: actionsOf('ssm', 'command'),
      Resource: ec2('instance'),
      Condition: { StringEquals: { [`ssm:resourceTag/${Tag.managedBy}`]: MANAGED_BY } },
    },
    { Sid: 'SsmCommandDocument', Effect: 'Allow', Action: actionsOf('ssm', 'command'), Resource: `arn:${p}:ssm:${r}::document/${SSM_DOCUMENT}` },
    {
      Sid: 'TenantInstanceProfile',
      Effect: 'Allow',
      Action: only('iam', 'GetInstanceProfile'),
      Resource: `arn:${p}:iam::${a}:instance-profile/${scope.instanceProfile ?? '*'}`,
    },
    {
      Sid: 'PassTenantRoleToEc2',
      Effect: 'Allow',
      Action: only('iam', 'PassRole'),
      Resource: `arn:${p}:iam::${a}:role/${scope.instanceRole ?? '*'}`,
      Condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
    },
    // The canary account's role gets this same document (with its account, region and profile), minus nothing.
    { Sid: 'AssumeCanaryRole', Effect: 'Allow', Action: only('sts', 'AssumeRole'), Resource: scope.canaryRoleArn ?? `arn:${p}:iam::*:role/*` },
  ];
  return { Version: '2012-10-17', Statement: statements };
}

/** Every `service:Action` a policy document grants (no wildcards are generated). */
export function grantedActions(doc: PolicyDocument): Set<string> {
  return new Set(doc.Statement.flatMap((s) => s.Action));
}

/** The table's actions, as IAM names. */
export function tableActions(filter: (a: AwsAction) => boolean = () => true): Set<string> {
  return new Set(AWS_ACTIONS.filter(filter).map(iamActionName));
}
