/**
 * What the product expects to exist in an account before it runs (its EC2_* / EIC_* wiring): a
 * VPC and subnet, the tenant IAM instance profile (moto refuses RunInstances without it), a
 * security group standing in for the EC2 Instance Connect endpoint, and an AMI from moto's
 * defaults. Seeded straight into moto, so the proxy's call log starts empty.
 */
import { CreateSecurityGroupCommand, CreateSubnetCommand, CreateVpcCommand, DescribeImagesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { AddRoleToInstanceProfileCommand, CreateInstanceProfileCommand, CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { addMotoAccountHeader } from './aws-proxy/backends.js';

export interface AwsSeed {
  vpcId: string;
  vpcCidr: string;
  subnetId: string;
  instanceProfileName: string;
  eicSecurityGroupId: string;
  ami: string;
}

export const SEED_VPC_CIDR = '10.20.0.0/16';
export const SEED_SUBNET_CIDR = '10.20.1.0/24';
export const SEED_INSTANCE_PROFILE = 'tenantform-tenant';

const ec2AssumeRolePolicy = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
});

export async function seedAwsAccount(motoUrl: string, accountId: string, region: string): Promise<AwsSeed> {
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
  const ec2 = new EC2Client({ region, endpoint: motoUrl, credentials, maxAttempts: 1 });
  const iam = new IAMClient({ region: 'us-east-1', endpoint: motoUrl, credentials, maxAttempts: 1 });
  addMotoAccountHeader(ec2, accountId);
  addMotoAccountHeader(iam, accountId);
  try {
    const [network, ami] = await Promise.all([
      (async () => {
        const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: SEED_VPC_CIDR }));
        const vpcId = vpc.Vpc!.VpcId!;
        const [subnet, eic] = await Promise.all([
          ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: SEED_SUBNET_CIDR })),
          ec2.send(new CreateSecurityGroupCommand({ VpcId: vpcId, GroupName: 'eic-endpoint', Description: 'EC2 Instance Connect endpoint' })),
        ]);
        return { vpcId, subnetId: subnet.Subnet!.SubnetId!, eicSecurityGroupId: eic.GroupId! };
      })(),
      pickAmi(ec2),
      (async () => {
        await iam.send(new CreateRoleCommand({ RoleName: SEED_INSTANCE_PROFILE, AssumeRolePolicyDocument: ec2AssumeRolePolicy }));
        await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: SEED_INSTANCE_PROFILE }));
        await iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: SEED_INSTANCE_PROFILE, RoleName: SEED_INSTANCE_PROFILE }));
      })(),
    ]);
    return { ...network, vpcCidr: SEED_VPC_CIDR, instanceProfileName: SEED_INSTANCE_PROFILE, ami };
  } finally {
    ec2.destroy();
    iam.destroy();
  }
}

/** The newest Amazon Linux 2023 x86_64 image among moto's default AMIs. */
async function pickAmi(ec2: EC2Client): Promise<string> {
  const images = await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'], Filters: [{ Name: 'name', Values: ['al2023-ami-2023*x86_64'] }] }));
  const newest = (images.Images ?? [])
    .filter((image) => image.ImageId)
    .sort((a, b) => (b.CreationDate ?? '').localeCompare(a.CreationDate ?? '') || (a.ImageId ?? '').localeCompare(b.ImageId ?? ''))[0];
  if (!newest?.ImageId) throw new Error('moto has no default Amazon Linux 2023 AMI in this region; set MOTO_AMIS_PATH or pick a region moto ships AMIs for');
  return newest.ImageId;
}
