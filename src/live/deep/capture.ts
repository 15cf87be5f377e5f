/**
 * Wraps the plan's read-only views so the same list calls also yield the fields the inventory
 * leaves out and drift compares: an instance's IAM instance profile and a DNS record's TTL. No
 * extra request is made; the listings plan makes carry both.
 */
import type { LiveReaders } from '../readers.js';

export interface ListExtras {
  /** instanceId → instance profile ARN (undefined: none attached). */
  instanceProfiles: Map<string, string | undefined>;
  /** DNS record id → TTL (1 is "automatic"). */
  recordTtls: Map<string, number | undefined>;
}

export function captureListExtras(readers: LiveReaders): { readers: LiveReaders; extras: ListExtras } {
  const extras: ListExtras = { instanceProfiles: new Map(), recordTtls: new Map() };
  return {
    extras,
    readers: {
      get calls() {
        return readers.calls;
      },
      secrets: readers.secrets,
      ec2: {
        ...readers.ec2,
        describeInstances: async (input) => {
          const out = await readers.ec2.describeInstances(input);
          for (const r of out.Reservations ?? []) {
            for (const i of r.Instances ?? []) if (i.InstanceId) extras.instanceProfiles.set(i.InstanceId, i.IamInstanceProfile?.Arn);
          }
          return out;
        },
      },
      cloudflare: {
        ...readers.cloudflare,
        listDnsRecords: async (query) => {
          const page = await readers.cloudflare.listDnsRecords(query);
          for (const r of page.items) extras.recordTtls.set(r.id, typeof r.ttl === 'number' ? r.ttl : undefined);
          return page;
        },
      },
    },
  };
}
