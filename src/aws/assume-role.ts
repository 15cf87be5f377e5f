/**
 * The canary account's credentials: STS AssumeRole of CANARY_ROLE_ARN from the main account's
 * credentials, by the SDK's own provider (fromTemporaryCredentials), memoized by the SDK's own
 * memoizeIdentityProvider (@smithy/core, what every client does with its credentials: kept until
 * five minutes before expiry, then refreshed; concurrent callers share one pending call). The one
 * memoized provider is shared by all the account's clients (EC2, Secrets Manager, SSM, IAM,
 * Service Quotas), so a run asks STS once, not once per client. Its STS client reaches the same
 * endpoint as the others (AWS_ENDPOINT_URL), so moto sees it.
 *
 * What is ours is only the failure: a refused AssumeRole (or an STS that does not answer) becomes
 * one AccountUnavailable naming the role, remembered for the session, so every call in that
 * account fails at once with that one line instead of each client and each retry asking STS
 * again and surfacing a different SDK stack.
 */
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { doesIdentityRequireRefresh, isIdentityExpired, memoizeIdentityProvider } from '@smithy/core';
import { AccountUnavailable, describeCause, InternalError } from '../errors.js';

interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

export interface AssumeRoleOptions {
  roleArn: string;
  /** `tenantform-<env>`: names the session in CloudTrail. */
  sessionName: string;
  /** Where STS is called from: the account's region, the standard endpoint variable's value. */
  region: string;
  endpoint: string | undefined;
  /** The main account's explicit credentials (from the environment); else the SDK's default chain. */
  masterCredentials: Credentials | undefined;
}

export type CredentialProvider = () => Promise<Credentials>;

export function assumedRoleCredentials(opts: AssumeRoleOptions): CredentialProvider {
  const assume = fromTemporaryCredentials({
    params: { RoleArn: opts.roleArn, RoleSessionName: opts.sessionName },
    ...(opts.masterCredentials ? { masterCredentials: opts.masterCredentials } : {}),
    // The app id marks the STS calls as tenantform's like every other client's (src/aws/clients.ts).
    clientConfig: { region: opts.region, ...(opts.endpoint ? { endpoint: opts.endpoint } : {}), maxAttempts: 3, userAgentAppId: 'tenantform' },
  });
  const provider = memoizeIdentityProvider(assume, isIdentityExpired, doesIdentityRequireRefresh);
  // Undefined only for an undefined provider, which fromTemporaryCredentials never returns.
  if (!provider) throw new InternalError('the SDK did not memoize the role provider', { operation: 'assume CANARY_ROLE_ARN', resource: opts.roleArn });
  let refusal: AccountUnavailable | undefined;
  return async () => {
    if (refusal) throw refusal;
    try {
      return await provider();
    } catch (e) {
      refusal = new AccountUnavailable(`the role could not be assumed (${describeCause(e)})`, {
        operation: 'assume CANARY_ROLE_ARN',
        resource: opts.roleArn,
        cause: e,
      });
      throw refusal;
    }
  };
}
