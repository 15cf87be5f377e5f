/**
 * The per-tenant reads that list endpoints cannot give (drift's deep check), and the one
 * DescribeVpcs the expected security-group rules need. Read-only like src/live/readers.ts: the SDK
 * clients stay in closures, and every request is counted per service and paced by the gate.
 *
 * The bootstrap bundle's value is parsed here and reduced to the names of its non-empty keys
 * before anything is returned: no value leaves this module, so none can be printed or stored.
 */
import { DescribeVpcsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type Cloudflare from 'cloudflare';
import { CloudError, describeCause } from '../../errors.js';
import { emptyCallCounts, type CallCounts, type ReadGate } from '../readers.js';

export interface TunnelIngressRule {
  hostname: string;
  service: string;
  path: string;
}

/** `absent`: the API has no configuration for the tunnel (404). */
export type TunnelConfiguration = { kind: 'rules'; ingress: TunnelIngressRule[] } | { kind: 'absent' };

/** What drift learns of a bundle's value: only which keys hold a non-empty string. */
export type BundleKeys = { kind: 'keys'; keys: string[] } | { kind: 'notJsonObject' } | { kind: 'missing' };

export interface DeepReaders {
  vpcCidr(vpcId: string): Promise<string | undefined>;
  tunnelConfiguration(tunnelId: string): Promise<TunnelConfiguration>;
  bundleKeys(secretName: string): Promise<BundleKeys>;
  readonly calls: CallCounts;
}

export interface DeepReaderSources {
  ec2: EC2Client;
  secrets: SecretsManagerClient;
  cloudflare: { client: Cloudflare; accountId: string };
  gate?: ReadGate;
}

function statusOf(e: unknown): number | undefined {
  const s =
    (e as { status?: unknown; $metadata?: { httpStatusCode?: unknown } } | null)?.status ??
    (e as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata?.httpStatusCode;
  return typeof s === 'number' ? s : undefined;
}

function nameOf(e: unknown): string | undefined {
  const n = (e as { name?: unknown } | null)?.name;
  return typeof n === 'string' ? n : undefined;
}

/** Key names holding a non-empty string; values are dropped here. */
export function keysOf(secretString: string | undefined): BundleKeys {
  if (secretString === undefined) return { kind: 'notJsonObject' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretString);
  } catch {
    return { kind: 'notJsonObject' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { kind: 'notJsonObject' };
  const keys = Object.entries(parsed as Record<string, unknown>)
    .filter(([, v]) => typeof v === 'string' && v.trim() !== '')
    .map(([k]) => k)
    .sort();
  return { kind: 'keys', keys };
}

export function createDeepReaders(src: DeepReaderSources): DeepReaders {
  const calls = emptyCallCounts();
  const gate: ReadGate = src.gate ?? { aws: (_s, _a, fn) => fn(), cloudflare: (_o, fn) => fn() };

  function aws<T extends { $metadata: { attempts?: number } }>(service: 'ec2' | 'secretsmanager', action: string, run: () => Promise<T>): Promise<T> {
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

  return {
    calls,
    async vpcCidr(vpcId) {
      try {
        const out = await aws('ec2', 'DescribeVpcs', () => src.ec2.send(new DescribeVpcsCommand({ VpcIds: [vpcId] })));
        return out.Vpcs?.[0]?.CidrBlock;
      } catch (err) {
        throw new CloudError(describeCause(err), { operation: 'read VPC CIDR', resource: `VPC ${vpcId}`, cause: err });
      }
    },
    async tunnelConfiguration(tunnelId) {
      const cf = src.cloudflare;
      try {
        const out = await gate.cloudflare('get tunnel configuration', () => {
          calls.cloudflare += 1;
          return cf.client.zeroTrust.tunnels.cloudflared.configurations.get(tunnelId, { account_id: cf.accountId });
        });
        const ingress = (out?.config?.ingress ?? []).map((r) => ({ hostname: r.hostname ?? '', service: r.service ?? '', path: r.path ?? '' }));
        return { kind: 'rules', ingress };
      } catch (err) {
        if (statusOf(err) === 404) return { kind: 'absent' };
        throw new CloudError(describeCause(err), { operation: 'get tunnel configuration', resource: `tunnel ${tunnelId}`, cause: err });
      }
    },
    async bundleKeys(secretName) {
      try {
        const out = await aws('secretsmanager', 'GetSecretValue', () => src.secrets.send(new GetSecretValueCommand({ SecretId: secretName })));
        return keysOf(out.SecretString);
      } catch (err) {
        if (nameOf(err) === 'ResourceNotFoundException') return { kind: 'missing' };
        // The message of a failed read never holds the value; it is still not quoted beyond its cause.
        throw new CloudError(describeCause(err), { operation: 'read bootstrap bundle keys', resource: `secret ${secretName}`, cause: err });
      }
    },
  };
}
