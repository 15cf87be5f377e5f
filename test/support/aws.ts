/**
 * An AWS emulator for one test: the process's moto server (test/support/moto.ts), a fresh AWS
 * account in it, seeded, behind a loopback fault proxy (test/support/aws-proxy). Point the product
 * at it with `env`; assert with `calls` and `clients()`.
 */
import { randomInt } from 'node:crypto';
import { EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient } from '@aws-sdk/client-iam';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import { seedAwsAccount, type AwsSeed } from './aws-seed.js';
import { startAwsProxy, type AwsFaults, type FaithfulOptions, type RecordedAwsCall } from './aws-proxy/server.js';
import { sharedMotoServer, type MotoServer } from './moto.js';

export type { AwsFaults, FaithfulOptions, RecordedAwsCall } from './aws-proxy/server.js';
export type { FaultHandle, FaultKind, FaultSpec } from './aws-proxy/faults.js';
export type { RuleHandle, SsmFailureRule, SsmInProgressRule } from './aws-proxy/ssm-outcomes.js';
export type { AwsRequest } from './aws-proxy/request.js';
export type { AwsSeed } from './aws-seed.js';

// The SDK warns on Node 20 through process.emitWarning; keep that noise out of test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export interface AwsTestClients {
  ec2: EC2Client;
  secrets: SecretsManagerClient;
  ssm: SSMClient;
  iam: IAMClient;
}

export interface AwsEmulator {
  /** The proxy URL: what AWS_ENDPOINT_URL must be. */
  endpoint: string;
  region: string;
  accountId: string;
  /** Everything the product needs in its environment to work against this emulator. */
  env: Record<string, string>;
  seed: AwsSeed;
  faults: AwsFaults;
  /** Every call that reached the proxy, in order (test-side `clients()` calls included; seeding not). */
  calls: RecordedAwsCall[];
  onCall(hook: (call: RecordedAwsCall) => void | Promise<void>): () => void;
  /** SDK clients through the proxy, for assertions; destroyed by close(). */
  clients(opts?: { maxAttempts?: number }): AwsTestClients;
  close(): Promise<void>;
}

export interface AwsEmulatorOptions {
  region?: string;
  /** Default: a random unused 12-digit id, so emulators never see each other's state. */
  accountId?: string;
  faithful?: Partial<FaithfulOptions>;
  /** Proxy port (the endpoint's port); a free one when omitted. */
  port?: number;
  /** Use this moto server instead of the process-wide one. */
  moto?: MotoServer;
}

const usedAccounts = new Set<string>();

function freshAccountId(): string {
  for (;;) {
    // Never 123456789012 (moto's default) so a call that somehow bypasses the proxy shows up empty.
    const id = String(randomInt(100_000_000_000, 999_999_999_999));
    if (!usedAccounts.has(id) && id !== '123456789012') {
      usedAccounts.add(id);
      return id;
    }
  }
}

export async function startAwsEmulator(opts: AwsEmulatorOptions = {}): Promise<AwsEmulator> {
  const region = opts.region ?? 'us-east-2';
  const accountId = opts.accountId ?? freshAccountId();
  const moto = opts.moto ?? (await sharedMotoServer());
  const seed = await seedAwsAccount(moto.url, accountId, region);
  const proxy = await startAwsProxy({ motoUrl: moto.url, accountId, faithful: opts.faithful, ...(opts.port !== undefined ? { port: opts.port } : {}) });
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
  const created: AwsTestClients[] = [];
  const env: Record<string, string> = {
    AWS_ENDPOINT_URL: proxy.url,
    AWS_REGION: region,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    EC2_VPC_ID: seed.vpcId,
    EC2_SUBNET_ID: seed.subnetId,
    EC2_TENANT_IAM_PROFILE: seed.instanceProfileName,
    EIC_ENDPOINT_SG_ID: seed.eicSecurityGroupId,
    EC2_AMI: seed.ami,
  };
  return {
    endpoint: proxy.url,
    region,
    accountId,
    env,
    seed,
    faults: proxy.faults,
    calls: proxy.calls,
    onCall: (hook) => proxy.onCall(hook),
    clients(clientOpts = {}) {
      const config = { region, endpoint: proxy.url, credentials, maxAttempts: clientOpts.maxAttempts ?? 3 };
      const clients: AwsTestClients = {
        ec2: new EC2Client(config),
        secrets: new SecretsManagerClient(config),
        ssm: new SSMClient(config),
        iam: new IAMClient({ ...config, region: 'us-east-1' }),
      };
      created.push(clients);
      return clients;
    },
    async close() {
      for (const clients of created.splice(0)) {
        for (const client of Object.values(clients)) client.destroy();
      }
      await proxy.close();
    },
  };
}
