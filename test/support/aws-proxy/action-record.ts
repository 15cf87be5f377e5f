/**
 * Opt-in record of every AWS action the product makes, for the IAM policy check
 * (test/iam/record-check.global.ts). When TENANTFORM_AWS_ACTION_RECORD names a file, each proxy
 * appends `service:Action` for every request whose User-Agent carries tenantform's SDK app id
 * (src/aws/clients.ts), so the harness's own calls (seeding, assertions, the proxy's corrections)
 * stay out of it. Every vitest worker and every proxy appends to the one file; a line is one small
 * O_APPEND write, so parallel writers never interleave within a line. A Secrets Manager call that
 * names one secret also records that secret's ARN after a tab (a name gets the request's region,
 * the default account and a placeholder for the six characters Secrets Manager appends), so the
 * check can match it against the policy's resources: tenantform's bundles, and the control
 * plane's under their old name, which `import --adopt` reads.
 */
import { appendFileSync } from 'node:fs';
import type { AwsRequest } from './request.js';

export const ACTION_RECORD_ENV = 'TENANTFORM_AWS_ACTION_RECORD';

/** tenantform's SDK clients set userAgentAppId 'tenantform', which the SDK sends as `app/tenantform`. */
const PRODUCT_AGENT = /(?:^|\s)app\/tenantform(?:\s|$)/;

export function isProductRequest(aws: AwsRequest): boolean {
  return [aws.headers['user-agent'], aws.headers['x-amz-user-agent']].some((h) => PRODUCT_AGENT.test(String(h ?? '')));
}

export function recordProductAction(aws: AwsRequest): void {
  const file = process.env[ACTION_RECORD_ENV];
  if (!file || !isProductRequest(aws)) return;
  const arn = secretArn(aws);
  appendFileSync(file, `${aws.service}:${aws.action}${arn ? `\t${arn}` : ''}\n`);
}

function secretArn(aws: AwsRequest): string | undefined {
  if (aws.service !== 'secretsmanager') return undefined;
  const id = aws.action === 'CreateSecret' ? aws.json.Name : aws.json.SecretId;
  if (typeof id !== 'string' || id === '') return undefined;
  return id.startsWith('arn:') ? id : `arn:aws:secretsmanager:${aws.region}:123456789012:secret:${id}-AbCdEf`;
}
