/**
 * A second AWS account for canary tests: seeded in moto like the main one (VPC, subnet, EIC group,
 * instance profile, created in that account, as moto requires), the product's CANARY_* wiring for
 * it, and check clients that read it from outside through the same proxy (the `x-moto-account-id`
 * header, which the proxy honours for callers that set it). The product itself gets there only by
 * AssumeRole of `roleArn` (moto answers for any role and maps the keys to the role's account).
 */
import { randomInt } from 'node:crypto';
import { EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient } from '@aws-sdk/client-iam';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import { addMotoAccountHeader } from './aws-proxy/backends.js';
import { seedAwsAccount, type AwsSeed } from './aws-seed.js';
import type { AwsEmulator, AwsTestClients, FaultHandle } from './aws.js';
import { sharedMotoServer } from './moto.js';

export interface CanaryAccount {
  accountId: string;
  roleArn: string;
  region: string;
  seed: AwsSeed;
  /** CANARY_ROLE_ARN, CANARY_REGION, CANARY_VPC_ID, CANARY_SUBNET_ID, CANARY_EIC_ENDPOINT_SG_ID, CANARY_TENANT_IAM_PROFILE. */
  env: Record<string, string>;
  /** SDK clients in the canary account, through the proxy. */
  check: AwsTestClients;
  close(): void;
}

export async function startCanaryAccount(aws: AwsEmulator, opts: { region?: string } = {}): Promise<CanaryAccount> {
  const region = opts.region ?? aws.region;
  let accountId: string;
  do accountId = String(randomInt(100_000_000_000, 999_999_999_999));
  while (accountId === aws.accountId || accountId === '123456789012');
  const moto = await sharedMotoServer();
  const seed = await seedAwsAccount(moto.url, accountId, region);
  const roleArn = `arn:aws:iam::${accountId}:role/tenantform-canary`;
  const config = { region, endpoint: aws.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 3 };
  const check: AwsTestClients = {
    ec2: new EC2Client(config),
    secrets: new SecretsManagerClient(config),
    ssm: new SSMClient(config),
    iam: new IAMClient({ ...config, region: 'us-east-1' }),
  };
  for (const client of Object.values(check)) addMotoAccountHeader(client, accountId);
  return {
    accountId,
    roleArn,
    region,
    seed,
    env: {
      CANARY_ROLE_ARN: roleArn,
      CANARY_REGION: region,
      CANARY_VPC_ID: seed.vpcId,
      CANARY_SUBNET_ID: seed.subnetId,
      CANARY_EIC_ENDPOINT_SG_ID: seed.eicSecurityGroupId,
      CANARY_TENANT_IAM_PROFILE: seed.instanceProfileName,
    },
    check,
    close() {
      for (const client of Object.values(check)) client.destroy();
    },
  };
}

/** STS refuses every AssumeRole from now on, as AWS does for a role the caller may not assume (moto refuses none). */
export function refuseAssumeRole(aws: AwsEmulator): FaultHandle {
  return aws.faults.inject({
    kind: 'awsError',
    service: 'sts',
    action: 'AssumeRole',
    code: 'AccessDenied',
    status: 403,
    message: 'not authorized to perform sts:AssumeRole',
  });
}
