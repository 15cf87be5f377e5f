/** Secrets Manager behaviour around scheduled deletion that moto gets wrong (notes/moto.md). */
import { DescribeSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { awsErrorReply, type ProxyReply } from './errors.js';
import { requestParam, type AwsRequest } from './request.js';

async function scheduledForDeletion(secrets: SecretsManagerClient, secretId: string): Promise<boolean> {
  try {
    const described = await secrets.send(new DescribeSecretCommand({ SecretId: secretId }));
    return described.DeletedDate !== undefined;
  } catch {
    return false;
  }
}

/** PutSecretValue / UpdateSecret on a secret scheduled for deletion (moto accepts them). */
export async function writeToScheduledSecret(req: AwsRequest, secrets: SecretsManagerClient): Promise<ProxyReply | undefined> {
  const secretId = requestParam(req, 'SecretId');
  if (!secretId || !(await scheduledForDeletion(secrets, secretId))) return undefined;
  return awsErrorReply(req, 400, 'InvalidRequestException', "You can't perform this operation on the secret because it was marked for deletion.");
}

/** CreateSecret over a name scheduled for deletion: AWS says InvalidRequestException, moto ResourceExistsException. */
export async function createOverScheduledSecret(req: AwsRequest, reply: ProxyReply, secrets: SecretsManagerClient): Promise<ProxyReply> {
  const name = requestParam(req, 'Name');
  if (reply.status !== 400 || !name || !reply.body.toString('utf8').includes('ResourceExistsException')) return reply;
  if (!(await scheduledForDeletion(secrets, name))) return reply;
  return awsErrorReply(req, 400, 'InvalidRequestException', "You can't create this secret because a secret with this name is already scheduled for deletion.");
}
