/**
 * AWS SDK clients for one environment. Endpoints, region and credentials come from the SDK's own
 * standard variables (AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID, …): that is how tests and
 * the demo point these real clients at moto. There is deliberately no endpoint option here.
 *
 * Throttling is paced by tenantform's own per-API budgets (src/rate), so the SDK's retry quota is
 * not the only line of defence; the SDK keeps its standard retries for transient faults.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient } from '@aws-sdk/client-iam';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { SSMClient } from '@aws-sdk/client-ssm';
import { assumedRoleCredentials } from './assume-role.js';

export interface AwsClients {
  region: string;
  ec2: EC2Client;
  secrets: SecretsManagerClient;
  ssm: SSMClient;
  /** Read only: apply's wiring preflight checks that the tenant instance profile exists. */
  iam: IAMClient;
  /** Read only: the EC2 vCPU quota the plan is checked against (src/live/quotas.ts). */
  serviceQuotas: ServiceQuotasClient;
  destroy(): void;
}

export interface AwsClientOptions {
  region: string;
  /** SDK attempts per call (standard mode); tenantform's own retry wraps throttling above this. */
  maxAttempts?: number;
  /**
   * The environment to read the SDK's standard variables from (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID,
   * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) when it is not process.env, e.g. a CLI run with an
   * injected Io. Unset variables fall back to the SDK's own resolution.
   */
  env?: NodeJS.ProcessEnv;
  /**
   * A second account (the canary one): its clients use the credentials of this role, assumed
   * from the environment's (src/aws/assume-role.ts), in `region`.
   */
  assumeRole?: { roleArn: string; sessionName: string };
}

function fromEnv(env: NodeJS.ProcessEnv | undefined): {
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
} {
  if (!env) return {};
  const endpoint = env.AWS_ENDPOINT_URL || undefined;
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  return {
    ...(endpoint ? { endpoint } : {}),
    ...(accessKeyId && secretAccessKey
      ? { credentials: { accessKeyId, secretAccessKey, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) } }
      : {}),
  };
}

export function createAwsClients(opts: AwsClientOptions): AwsClients {
  // The app id marks tenantform's calls in CloudTrail (user agent `app/tenantform`); the test
  // suite's IAM policy check tells the product's calls from its own harness's by it.
  const base = fromEnv(opts.env);
  const credentials = opts.assumeRole
    ? {
        credentials: assumedRoleCredentials({
          ...opts.assumeRole,
          region: opts.region,
          endpoint: base.endpoint,
          masterCredentials: base.credentials,
        }),
      }
    : {};
  const common = { region: opts.region, maxAttempts: opts.maxAttempts ?? 3, userAgentAppId: 'tenantform', ...base, ...credentials };
  const ec2 = new EC2Client(common);
  const secrets = new SecretsManagerClient(common);
  const ssm = new SSMClient(common);
  const iam = new IAMClient(common);
  const serviceQuotas = new ServiceQuotasClient(common);
  return {
    region: opts.region,
    ec2,
    secrets,
    ssm,
    iam,
    serviceQuotas,
    destroy() {
      ec2.destroy();
      secrets.destroy();
      ssm.destroy();
      iam.destroy();
      serviceQuotas.destroy();
    },
  };
}
