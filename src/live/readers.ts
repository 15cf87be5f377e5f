/**
 * Read-only views of the AWS and Cloudflare clients. Plan and drift depend on `LiveReaders`, whose
 * methods are only list/describe calls: the SDK clients are captured in closures, so no code
 * holding a reader can reach `send`, a create or a delete. Every request is counted per service
 * (benchmarks and tests read the counts) and goes through an optional rate gate (src/rate).
 */
import {
  DescribeInstancesCommand,
  DescribeInstanceTypesCommand,
  DescribeSecurityGroupsCommand,
  DescribeVolumesCommand,
  type DescribeInstancesCommandInput,
  type DescribeInstancesCommandOutput,
  type DescribeInstanceTypesCommandOutput,
  type DescribeSecurityGroupsCommandInput,
  type DescribeSecurityGroupsCommandOutput,
  type DescribeVolumesCommandInput,
  type DescribeVolumesCommandOutput,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { GetServiceQuotaCommand, type GetServiceQuotaCommandOutput, type ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { ListSecretsCommand, type ListSecretsCommandInput, type ListSecretsCommandOutput, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type Cloudflare from 'cloudflare';
import type { CloudflaredListParams } from 'cloudflare/resources/zero-trust/tunnels/cloudflared/cloudflared';
import type { RecordListParams, RecordResponse } from 'cloudflare/resources/dns/records';
import type { CloudflareTunnel } from 'cloudflare/resources/shared';
import { InternalError } from '../errors.js';
import type { ObservedService } from './model.js';

export interface Ec2Reader {
  describeInstances(input: DescribeInstancesCommandInput): Promise<DescribeInstancesCommandOutput>;
  describeSecurityGroups(input: DescribeSecurityGroupsCommandInput): Promise<DescribeSecurityGroupsCommandOutput>;
  describeVolumes(input: DescribeVolumesCommandInput): Promise<DescribeVolumesCommandOutput>;
}

export interface SecretsReader {
  /** Metadata only: ListSecrets never returns secret values. */
  listSecrets(input: ListSecretsCommandInput): Promise<ListSecretsCommandOutput>;
}

/** One page of a Cloudflare v4 list; `totalPages` and `totalCount` when the server reported them. */
export interface CloudflarePage<T> {
  items: T[];
  page: number;
  perPage: number;
  totalPages: number | undefined;
  totalCount?: number | undefined;
}

/**
 * The reads the quota check makes (src/live/quotas.ts), each cached for the life of the readers
 * (one run): a Service Quotas value, instance types' vCPUs, and the account's and zone's object
 * counts (one `per_page=1` list call each, read from `result_info.total_count`).
 */
export interface QuotaReader {
  getServiceQuota(serviceCode: string, quotaCode: string): Promise<GetServiceQuotaCommandOutput>;
  /** Up to 100 types per call (DescribeInstanceTypes' limit); answers only the types not asked before. */
  vcpusOf(instanceTypes: readonly string[]): Promise<Map<string, number>>;
  countTunnels(): Promise<number | undefined>;
  countDnsRecords(): Promise<number | undefined>;
}

export type TunnelListQuery = Omit<CloudflaredListParams, 'account_id'>;
export type DnsListQuery = Omit<RecordListParams, 'zone_id'>;

export interface CloudflareReader {
  listTunnels(query: TunnelListQuery): Promise<CloudflarePage<CloudflareTunnel>>;
  listDnsRecords(query: DnsListQuery): Promise<CloudflarePage<RecordResponse>>;
}

/** Requests made per service; AWS SDK retries are included (from `$metadata.attempts`). */
export type CallCounts = Record<ObservedService, number>;

/**
 * The paced path for each request: takes a token from the API's budget and retries throttling
 * (src/rate `createRateGate` has this shape). The default runs the request directly.
 */
export interface ReadGate {
  aws<T>(service: 'ec2' | 'secretsmanager' | 'servicequotas', action: string, fn: () => Promise<T>): Promise<T>;
  cloudflare<T>(op: string, fn: () => Promise<T>): Promise<T>;
}

const ungated: ReadGate = {
  aws: (_service, _action, fn) => fn(),
  cloudflare: (_op, fn) => fn(),
};

export interface LiveReaders {
  ec2: Ec2Reader;
  secrets: SecretsReader;
  cloudflare: CloudflareReader;
  /** Set when the session has the clients for it (a Service Quotas client is optional). */
  quotas?: QuotaReader;
  /** Live counters; copy them when a snapshot is needed. */
  readonly calls: CallCounts;
}

export interface ReaderSources {
  ec2: EC2Client;
  secrets: SecretsManagerClient;
  cloudflare: { client: Cloudflare; accountId: string; zoneId: string };
  /** The Service Quotas client; without it the quota reader answers no Service Quotas value. */
  serviceQuotas?: ServiceQuotasClient;
  gate?: ReadGate;
}

export function emptyCallCounts(): CallCounts {
  return { ec2: 0, secretsmanager: 0, ssm: 0, cloudflare: 0 };
}

export function createLiveReaders(src: ReaderSources): LiveReaders {
  const calls = emptyCallCounts();
  const gate = src.gate ?? ungated;

  function aws<T extends { $metadata: { attempts?: number } }>(service: 'ec2' | 'secretsmanager' | 'servicequotas', action: string, run: () => Promise<T>): Promise<T> {
    // Service Quotas reads are about EC2's limits and are counted with EC2's calls.
    const counted = service === 'servicequotas' ? 'ec2' : service;
    // Counted inside the gate so that a throttled attempt the gate retries is counted too.
    return gate.aws(service, action, async () => {
      try {
        const out = await run();
        calls[counted] += out.$metadata.attempts ?? 1;
        return out;
      } catch (err) {
        calls[counted] += (err as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? 1;
        throw err;
      }
    });
  }

  async function cloudflarePage<T>(operation: string, query: { page?: number; per_page?: number }, run: () => Promise<unknown>): Promise<CloudflarePage<T>> {
    const page = (await gate.cloudflare(operation, () => {
      calls.cloudflare += 1;
      return run();
    })) as { result: T[]; result_info?: { page?: number; per_page?: number; total_pages?: number; total_count?: number } };
    // result_info.total_pages is sent by the API but not in the SDK's types.
    return {
      items: page.result ?? [],
      page: page.result_info?.page ?? query.page ?? 1,
      perPage: page.result_info?.per_page ?? query.per_page ?? page.result?.length ?? 0,
      totalPages: page.result_info?.total_pages,
      totalCount: page.result_info?.total_count,
    };
  }

  const memo = <T>(run: () => Promise<T>): (() => Promise<T>) => {
    let held: Promise<T> | undefined;
    return () => (held ??= run());
  };
  const quotaValues = new Map<string, Promise<GetServiceQuotaCommandOutput>>();
  const vcpus = new Map<string, number>();
  const sq = src.serviceQuotas;

  const { ec2, secrets } = src;
  const cf = src.cloudflare;
  return {
    calls,
    ec2: {
      describeInstances: (input) => aws('ec2', 'DescribeInstances', () => ec2.send(new DescribeInstancesCommand(input))),
      describeSecurityGroups: (input) => aws('ec2', 'DescribeSecurityGroups', () => ec2.send(new DescribeSecurityGroupsCommand(input))),
      describeVolumes: (input) => aws('ec2', 'DescribeVolumes', () => ec2.send(new DescribeVolumesCommand(input))),
    },
    secrets: {
      listSecrets: (input) => aws('secretsmanager', 'ListSecrets', () => secrets.send(new ListSecretsCommand(input))),
    },
    cloudflare: {
      listTunnels: (query) =>
        cloudflarePage<CloudflareTunnel>('list tunnels', query, () => cf.client.zeroTrust.tunnels.cloudflared.list({ ...query, account_id: cf.accountId })),
      listDnsRecords: (query) => cloudflarePage<RecordResponse>('list DNS records', query, () => cf.client.dns.records.list({ ...query, zone_id: cf.zoneId })),
    },
    quotas: {
      getServiceQuota(serviceCode, quotaCode) {
        const key = `${serviceCode}/${quotaCode}`;
        let held = quotaValues.get(key);
        if (!held) {
          held = sq
            ? aws('servicequotas', 'GetServiceQuota', () => sq.send(new GetServiceQuotaCommand({ ServiceCode: serviceCode, QuotaCode: quotaCode })))
            : Promise.reject(new InternalError('no Service Quotas client in this session', { operation: 'read service quota', resource: key }));
          quotaValues.set(key, held);
        }
        return held;
      },
      async vcpusOf(instanceTypes) {
        const missing = [...new Set(instanceTypes)].filter((t) => !vcpus.has(t)).sort();
        for (let i = 0; i < missing.length; i += 100) {
          const chunk = missing.slice(i, i + 100);
          let token: string | undefined;
          do {
            const out: DescribeInstanceTypesCommandOutput = await aws('ec2', 'DescribeInstanceTypes', () =>
              ec2.send(new DescribeInstanceTypesCommand({ InstanceTypes: chunk as never[], ...(token ? { NextToken: token } : {}) })),
            );
            for (const t of out.InstanceTypes ?? []) if (t.InstanceType && t.VCpuInfo?.DefaultVCpus !== undefined) vcpus.set(t.InstanceType, t.VCpuInfo.DefaultVCpus);
            token = out.NextToken;
          } while (token);
        }
        return new Map(instanceTypes.filter((t) => vcpus.has(t)).map((t) => [t, vcpus.get(t)!]));
      },
      countTunnels: memo(async () => {
        const page = await cloudflarePage<CloudflareTunnel>('list tunnels', { per_page: 1 }, () =>
          cf.client.zeroTrust.tunnels.cloudflared.list({ is_deleted: false, per_page: 1, account_id: cf.accountId }),
        );
        return page.totalCount;
      }),
      countDnsRecords: memo(async () => {
        const page = await cloudflarePage<RecordResponse>('list DNS records', { per_page: 1 }, () => cf.client.dns.records.list({ per_page: 1, zone_id: cf.zoneId }));
        return page.totalCount;
      }),
    },
  };
}
