/**
 * The emulated world bench:apply and bench:rollout launch hundreds of instances into: moto with the
 * speed-only tag index (as bench:plan), behind the fault proxy with a vCPU quota that holds the
 * fleet (600 instances would pass the proxy's default 1,152), the Cloudflare double, a /17 subnet
 * (the harness's /24 runs out of private addresses after ~250 instances; moto then answers 500),
 * and the environment the CLI child runs with (generated secrets, never printed).
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { CreateSubnetCommand } from '@aws-sdk/client-ec2';
import { startAwsEmulator, type AwsEmulator } from '../test/support/aws.js';
import { startCloudflareDouble, type CloudflareDouble } from '../test/support/cloudflare-double/index.js';
import { startMotoServer, type MotoServer } from '../test/support/moto.js';

export interface BenchEmulators {
  aws: AwsEmulator;
  cf: CloudflareDouble;
  env: NodeJS.ProcessEnv;
  close(): Promise<void>;
}

export async function startBenchEmulators(zoneName: string): Promise<BenchEmulators> {
  process.env.PYTHONPATH = [resolve(import.meta.dirname, 'moto-tag-index'), process.env.PYTHONPATH].filter(Boolean).join(':');
  let moto: MotoServer | undefined;
  let aws: AwsEmulator | undefined;
  let cf: CloudflareDouble | undefined;
  const close = async () => {
    await aws?.close();
    await cf?.close();
    moto?.stop();
  };
  try {
    moto = await startMotoServer();
    aws = await startAwsEmulator({ moto, faithful: { ec2VcpuQuota: 100_000 } });
    cf = await startCloudflareDouble({ zoneName });
    const subnet = await aws.clients().ec2.send(new CreateSubnetCommand({ VpcId: aws.seed.vpcId, CidrBlock: '10.20.128.0/17' }));
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      NO_COLOR: '1',
      ...aws.env,
      EC2_SUBNET_ID: subnet.Subnet!.SubnetId!,
      ...cf.env,
      SECRETS_ENCRYPTION_KEY: randomBytes(16).toString('hex'),
      PROVISION_SHARED_SECRET: randomBytes(16).toString('hex'),
      GHCR_PULL_TOKEN: randomBytes(16).toString('hex'),
      CP_BASE_URL: 'https://cp.example.dev',
    };
    return { aws, cf, env, close };
  } catch (err) {
    await close();
    throw err;
  }
}
