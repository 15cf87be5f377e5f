/**
 * Service Quotas for EC2, which moto does not have (its backend serves the `vpc` service code
 * only): GetServiceQuota for the running On-Demand Standard instances vCPU quota, answered as AWS
 * answers it (the JSON protocol's `Quota` object), with the value the test chose.
 */
import type { ProxyReply } from './errors.js';
import type { AwsRequest } from './request.js';

const CODE = 'L-1216C47A';

export function ec2VcpuQuotaReply(aws: AwsRequest, value: number): ProxyReply | undefined {
  const input = aws.json as { ServiceCode?: unknown; QuotaCode?: unknown };
  if (input.ServiceCode !== 'ec2' || input.QuotaCode !== CODE) return undefined;
  const body = {
    Quota: {
      ServiceCode: 'ec2',
      ServiceName: 'Amazon Elastic Compute Cloud (Amazon EC2)',
      QuotaArn: `arn:aws:servicequotas:${aws.region}:123456789012:ec2/${CODE}`,
      QuotaCode: CODE,
      QuotaName: 'Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances',
      Value: value,
      Unit: 'None',
      Adjustable: true,
      GlobalQuota: false,
    },
  };
  return { status: 200, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: Buffer.from(JSON.stringify(body)) };
}
