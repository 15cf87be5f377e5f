/**
 * Read-only views of the AWS and Cloudflare clients. Plan and drift depend on `LiveReaders`, whose
 * methods are only list/describe calls: the SDK clients are captured in closures, so no code
 * holding a reader can reach `send`, a create or a delete. Every request is counted per service
 * (benchmarks and tests read the counts) and goes through an optional rate gate (src/rate).
 */
import {
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  DescribeVolumesCommand,
  type DescribeInstancesCommandInput,
  type DescribeInstancesCommandOutput,
  type DescribeSecurityGroupsCommandInput,
  type DescribeSecurityGroupsCommandOutput,
  type DescribeVolumesCommandInput,
  type DescribeVolumesCommandOutput,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { ListSecretsCommand, type ListSecretsCommandInput, type ListSecretsCommandOutput, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type Cloudflare from 'cloudflare';
import type { CloudflaredListParams } from 'cloudflare/resources/zero-trust/tunnels/cloudflared/cloudflared';
import type { RecordListParams, RecordResponse } from 'cloudflare/resources/dns/records';
import type { CloudflareTunnel } from 'cloudflare/resources/shared';
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

/** One page of a Cloudflare v4 list; `totalPages` when the server reported it. */
export interface CloudflarePage<T> {
  items: T[];
  page: number;
  perPage: number;
  totalPages: number | undefined;
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
  aws<T>(service: 'ec2' | 'secretsmanager', action: string, fn: () => Promise<T>): Promise<T>;
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
  /** Live counters; copy them when a snapshot is needed. */
  readonly calls: CallCounts;
}

export interface ReaderSources {
  ec2: EC2Client;
  secrets: SecretsManagerClient;
  cloudflare: { client: Cloudflare; accountId: string; zoneId: string };
  gate?: ReadGate;
}

export function emptyCallCounts(): CallCounts {
  return { ec2: 0, secretsmanager: 0, ssm: 0, cloudflare: 0 };
}

export function createLiveReaders(src: ReaderSources): LiveReaders {
  const calls = emptyCallCounts();
  const gate = src.gate ?? ungated;

  function aws<T extends { $metadata: { attempts?: number } }>(service: 'ec2' | 'secretsmanager', action: string, run: () => Promise<T>): Promise<T> {
    // Counted inside the gate so that a throttled attempt the gate retries is counted too.
    return gate.aws(service, action, async () => {
      try {
        const out = await run();
        calls[service] += out.$metadata.attempts ?? 1;
        return out;
      } catch (err) {
        calls[service] += (err as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? 1;
        throw err;
      }
    });
  }

  async function cloudflarePage<T>(operation: string, query: { page?: number; per_page?: number }, run: () => Promise<unknown>): Promise<CloudflarePage<T>> {
    const page = (await gate.cloudflare(operation, () => {
      calls.cloudflare += 1;
      return run();
    })) as { result: T[]; result_info?: { page?: number; per_page?: number; total_pages?: number } };
    // result_info.total_pages is sent by the API but not in the SDK's types.
    return {
      items: page.result ?? [],
      page: page.result_info?.page ?? query.page ?? 1,
      perPage: page.result_info?.per_page ?? query.per_page ?? page.result?.length ?? 0,
      totalPages: page.result_info?.total_pages,
    };
  }

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
  };
}
