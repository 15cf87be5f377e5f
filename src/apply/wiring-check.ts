/**
 * The wiring preflight: before apply's first mutating call, read (and only read) everything the
 * run will reference — the VPC, the subnet (and that it lies in that VPC), the EIC endpoint's
 * security group (or the legacy shared group), the tenant instance profile and the AMIs the plan
 * launches. One describe per kind, concurrently. (The Cloudflare zone needs no call of its own:
 * observing lists its DNS records before any plan exists, and names CLOUDFLARE_ZONE_ID when that
 * fails.) A wrong value is an
 * error naming its variable (exit 1) with nothing created, where it used to surface at the
 * security group or the launch after the tunnel, the CNAME, the ingress and the bundle were made.
 *
 * What it reads primes the caches the act steps use (VPC CIDR, AMI root devices), so a run makes no
 * more calls than before.
 */
import { DescribeImagesCommand, DescribeSecurityGroupsCommand, DescribeSubnetsCommand, DescribeVpcsCommand } from '@aws-sdk/client-ec2';
import { GetInstanceProfileCommand } from '@aws-sdk/client-iam';
import { variableIn } from '../accounts.js';
import { ConfigError } from '../errors.js';
import type { Action, Plan } from '../plan/model.js';
import { awsCall, hasCode } from './cloud.js';
import type { ActContext } from './context.js';
import { rememberRootDevice } from './instance.js';
import { rememberVpcCidr } from './security-group.js';

/** What a plan's actions will reference. */
export interface WiringNeeds {
  /** Security groups are ensured and instances launched: VPC, subnet, EIC group, instance profile. */
  network: boolean;
  /** AMI → who launches it (for the message). */
  amis: Map<string, string[]>;
}

function launches(a: Action): boolean {
  return (a.kind === 'create' || a.kind === 'repair') && a.steps.some((s) => s.resource === 'instance' && s.op === 'create');
}

export function wiringNeeds(plan: Plan): WiringNeeds {
  const amis = new Map<string, string[]>();
  for (const a of plan.actions.filter(launches)) {
    const ami = a.intent.kind === 'tenant' ? a.intent.tenant.ami : a.intent.kind === 'workspace' ? a.intent.workspace.ami : undefined;
    if (!ami) continue;
    const who = a.target.kind === 'tenant' ? `tenant ${a.target.slug}` : `workspace ${a.target.slug}/${a.target.workspaceName ?? a.target.workspaceId}`;
    amis.set(ami, [...(amis.get(ami) ?? []), who]);
  }
  return {
    network: plan.actions.some((a) => a.kind === 'create' || a.kind === 'repair'),
    amis,
  };
}

/** Throws a ConfigError listing every variable whose value the cloud does not know; reads only. */
export async function checkWiring(ctx: ActContext, needs: WiringNeeds): Promise<void> {
  const w = ctx.wiring;
  // The canary account's variables are CANARY_* (src/accounts.ts).
  const v = (name: string): string => variableIn(w.account, name);
  const where = w.account === 'canary' ? `${w.region} (canary account)` : w.region;
  const problems: string[] = [];
  const ec2 = ctx.aws.ec2;
  const checks: Promise<void>[] = [];

  if (needs.network) {
    if (!w.vpcId && !w.legacySecurityGroupId) {
      problems.push('EC2_VPC_ID is not set and neither is EC2_SECURITY_GROUP: instances would get no security group (set EC2_VPC_ID for per-tenant groups)');
    }
    if (w.vpcId) {
      const vpcId = w.vpcId;
      checks.push(
        awsCall(ctx, 'ec2', 'DescribeVpcs', `VPC ${vpcId}`, () => ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }))).then((out) => {
          const vpc = out.Vpcs?.find((v) => v.VpcId === vpcId);
          if (!vpc) problems.push(`${v('EC2_VPC_ID')} ${vpcId} does not exist in ${where}`);
          else if (vpc.CidrBlock) rememberVpcCidr(ec2, vpcId, vpc.CidrBlock);
        }),
      );
    }
    if (w.subnetId) {
      const subnetId = w.subnetId;
      checks.push(
        awsCall(ctx, 'ec2', 'DescribeSubnets', `subnet ${subnetId}`, () =>
          ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'subnet-id', Values: [subnetId] }] })),
        ).then((out) => {
          const subnet = out.Subnets?.find((s) => s.SubnetId === subnetId);
          if (!subnet) problems.push(`${v('EC2_SUBNET_ID')} ${subnetId} does not exist in ${where}`);
          else if (w.vpcId && subnet.VpcId !== w.vpcId) problems.push(`${v('EC2_SUBNET_ID')} ${subnetId} is in ${subnet.VpcId}, not in ${v('EC2_VPC_ID')} ${w.vpcId}`);
        }),
      );
    }
    const groups: Array<[string, string]> = [];
    if (w.eicSecurityGroupId) groups.push([v('EIC_ENDPOINT_SG_ID'), w.eicSecurityGroupId]);
    if (!w.vpcId && w.legacySecurityGroupId) groups.push(['EC2_SECURITY_GROUP', w.legacySecurityGroupId]);
    if (groups.length > 0) {
      const ids = [...new Set(groups.map(([, id]) => id))];
      checks.push(
        awsCall(ctx, 'ec2', 'DescribeSecurityGroups', `security groups ${ids.join(', ')}`, () =>
          ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-id', Values: ids }] })),
        ).then((out) => {
          for (const [variable, id] of groups) {
            const group = out.SecurityGroups?.find((g) => g.GroupId === id);
            if (!group) problems.push(`${variable} ${id} does not exist in ${where}`);
            else if (variable === v('EIC_ENDPOINT_SG_ID') && w.vpcId && group.VpcId !== w.vpcId) {
              problems.push(`${variable} ${id} is in ${group.VpcId}, not in ${v('EC2_VPC_ID')} ${w.vpcId}: a rule cannot name it as a source`);
            }
          }
        }),
      );
    }
    const profile = w.instanceProfileName;
    checks.push(
      awsCall(ctx, 'iam', 'GetInstanceProfile', `instance profile ${profile}`, () =>
        ctx.aws.iam.send(new GetInstanceProfileCommand({ InstanceProfileName: profile })),
      ).then(
        () => undefined,
        (e: unknown) => {
          if (!hasCode(e, 'NoSuchEntity', 'NoSuchEntityException')) throw e;
          problems.push(`${v('EC2_TENANT_IAM_PROFILE')} ${profile} is not an IAM instance profile of ${w.account === 'canary' ? 'the canary account' : 'this account'}`);
        },
      ),
    );
  }

  if (needs.amis.size > 0) {
    const ids = [...needs.amis.keys()].sort();
    checks.push(
      awsCall(ctx, 'ec2', 'DescribeImages', `AMIs ${ids.join(', ')}`, () => ec2.send(new DescribeImagesCommand({ Filters: [{ Name: 'image-id', Values: ids }] }))).then(
        (out) => {
          for (const id of ids) {
            const image = out.Images?.find((i) => i.ImageId === id);
            if (image?.RootDeviceName) rememberRootDevice(ec2, id, image.RootDeviceName);
            if (!image) {
              const who = needs.amis.get(id)!;
              problems.push(
                `AMI ${id} (fleet.yaml defaultAmi/amiPins, or EC2_AMI) does not exist in ${where}; it would launch ${who.slice(0, 3).join(', ')}${who.length > 3 ? ` and ${who.length - 3} more` : ''}`,
              );
            }
          }
        },
      ),
    );
  }

  await Promise.all(checks);
  if (problems.length > 0) {
    throw new ConfigError(
      `the wiring does not match the cloud; nothing was changed:\n${problems
        .sort()
        .map((p) => `  - ${p}`)
        .join('\n')}`,
      {
        operation: 'check wiring',
        resource: `environment ${w.environment}`,
      },
    );
  }
}
