/**
 * What the quota check (src/plan/quotas.ts) needs to know about the account and the zone, read
 * only when the plan adds something the quota counts (a plan that adds nothing costs nothing):
 *
 * - Cloudflare: every tunnel in the account and every record in the zone count, not only
 *   tenantform's, and plan's own listings are filtered (tunnel name prefix, DNS comment prefix).
 *   So one `per_page=1` list call each, read from `result_info.total_count` (2 requests).
 * - EC2: the running On-Demand Standard instances vCPU quota (Service Quotas L-1216C47A; one
 *   GetServiceQuota), the instances running or pending in the account and region (every one, not
 *   only tenantform's: DescribeInstances with a state filter, 1,000 a page, so ⌈N/1000⌉ calls in
 *   the filtered describe bucket), and the vCPUs of their types and of the planned ones
 *   (DescribeInstanceTypes, 100 types a call, cached per run by the reader).
 *
 * Read-only: GetServiceQuota, DescribeInstances, DescribeInstanceTypes and two list calls.
 */
import { isStandardFamily } from '../ec2-families.js';
import { describeCause } from '../errors.js';
import type { QuotaReader, Ec2Reader } from './readers.js';

export const EC2_SERVICE_CODE = 'ec2';
/** Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances, in vCPUs. */
export const STANDARD_VCPU_QUOTA_CODE = 'L-1216C47A';

/** What the quota check counts against. Plain data, like the inventory. */
export interface QuotaObservation {
  /** Every live tunnel in the Cloudflare account; undefined when not read. */
  tunnels?: number | undefined;
  /** Every record in the zone; undefined when not read. */
  dnsRecords?: number | undefined;
  ec2?: {
    /** The Service Quotas value; undefined when it could not be read (`quotaError` says why). */
    vcpuQuota: number | undefined;
    quotaError?: string;
    /** vCPUs of the On-Demand Standard instances running or pending now. */
    runningVcpus: number;
    runningInstances: number;
    /** Instance type → vCPUs for every type running or planned (DescribeInstanceTypes). */
    vcpusByType: Record<string, number>;
  };
}

export interface QuotaNeeds {
  tunnels: boolean;
  dnsRecords: boolean;
  /** Instance types the plan launches or starts; undefined: the EC2 quota is not read. */
  instanceTypes?: readonly string[];
}

export async function observeQuotas(ec2: Ec2Reader, reader: QuotaReader, needs: QuotaNeeds): Promise<QuotaObservation> {
  const [tunnels, dnsRecords, instanceQuota] = await Promise.all([
    needs.tunnels ? reader.countTunnels() : Promise.resolve(undefined),
    needs.dnsRecords ? reader.countDnsRecords() : Promise.resolve(undefined),
    needs.instanceTypes ? observeVcpus(ec2, reader, needs.instanceTypes) : Promise.resolve(undefined),
  ]);
  return { tunnels, dnsRecords, ...(instanceQuota ? { ec2: instanceQuota } : {}) };
}

async function observeVcpus(ec2: Ec2Reader, reader: QuotaReader, planned: readonly string[]): Promise<QuotaObservation['ec2']> {
  const quota = readQuota(reader);
  const running = new Map<string, number>();
  let token: string | undefined;
  do {
    const out = await ec2.describeInstances({
      Filters: [{ Name: 'instance-state-name', Values: ['pending', 'running'] }],
      MaxResults: 1000,
      ...(token ? { NextToken: token } : {}),
    });
    for (const r of out.Reservations ?? []) {
      for (const i of r.Instances ?? []) {
        // Spot and scheduled instances count against quotas of their own.
        if (i.InstanceLifecycle || !i.InstanceType || !isStandardFamily(i.InstanceType)) continue;
        running.set(i.InstanceType, (running.get(i.InstanceType) ?? 0) + 1);
      }
    }
    token = out.NextToken;
  } while (token);
  const types = [...new Set([...running.keys(), ...planned])];
  const vcpus = await reader.vcpusOf(types);
  let runningVcpus = 0;
  let runningInstances = 0;
  for (const [type, n] of running) {
    runningVcpus += n * (vcpus.get(type) ?? 0);
    runningInstances += n;
  }
  const q = await quota;
  return {
    vcpuQuota: q.value,
    ...(q.error !== undefined ? { quotaError: q.error } : {}),
    runningVcpus,
    runningInstances,
    vcpusByType: Object.fromEntries([...vcpus].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
  };
}

/** A quota that cannot be read is not an error of the plan: fleet.yaml's `quotas.vcpus` stands in. */
async function readQuota(reader: QuotaReader): Promise<{ value: number | undefined; error?: string }> {
  try {
    const out = await reader.getServiceQuota(EC2_SERVICE_CODE, STANDARD_VCPU_QUOTA_CODE);
    const value = out.Quota?.Value;
    return value === undefined ? { value: undefined, error: 'GetServiceQuota returned no value' } : { value };
  } catch (err) {
    return { value: undefined, error: describeCause(err) };
  }
}
