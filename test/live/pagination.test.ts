import type { DescribeInstancesCommandOutput } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { fetchAllPages } from '../../src/live/cloudflare-pages.js';
import { observeInstances } from '../../src/live/ec2.js';
import type { CloudflarePage, Ec2Reader } from '../../src/live/readers.js';

/** An Ec2Reader serving fixed pages: pagination logic is ours, so it is tested on our interface. */
function pagedReader(pages: string[][]): { reader: Ec2Reader; tokens: Array<string | undefined> } {
  const tokens: Array<string | undefined> = [];
  const unused = () => Promise.reject(new Error('not used'));
  return {
    tokens,
    reader: {
      describeInstances: async (input) => {
        tokens.push(input.NextToken);
        const n = input.NextToken ? Number(input.NextToken) : 0;
        const page: DescribeInstancesCommandOutput = {
          $metadata: {},
          Reservations: [{ Instances: pages[n]!.map((InstanceId) => ({ InstanceId })) }],
          NextToken: n + 1 < pages.length ? String(n + 1) : undefined,
        };
        return page;
      },
      describeSecurityGroups: unused,
      describeVolumes: unused,
    },
  };
}

describe('EC2 pagination', () => {
  it('follows NextToken to the last page, asking 1,000 at a time with the environment filters', async () => {
    const { reader, tokens } = pagedReader([['i-1', 'i-2'], ['i-3'], ['i-4']]);
    const found = await observeInstances(reader, { environment: 'dev' });
    expect(found.map((i) => i.InstanceId)).toEqual(['i-1', 'i-2', 'i-3', 'i-4']);
    expect(tokens).toEqual([undefined, '1', '2']);
  });

  it('splits a scope of more than 200 slugs into several filtered listings', async () => {
    const seen: string[][] = [];
    const reader: Ec2Reader = {
      describeInstances: async (input) => {
        expect(input.MaxResults).toBe(1000);
        const names = (input.Filters ?? []).map((f) => f.Name);
        expect(names).toEqual(['tag:ManagedBy', 'tag:Env', 'tag:OrgSlug', 'instance-state-name']);
        seen.push(input.Filters![2]!.Values!);
        return { $metadata: {}, Reservations: [] };
      },
      describeSecurityGroups: () => Promise.reject(new Error('not used')),
      describeVolumes: () => Promise.reject(new Error('not used')),
    };
    const slugs = Array.from({ length: 450 }, (_, i) => `t${i}`);
    await observeInstances(reader, { environment: 'dev', slugs });
    expect(seen.map((v) => v.length)).toEqual([200, 200, 50]);
    expect(seen.flat()).toEqual(slugs);
  });
});

describe('Cloudflare pagination', () => {
  const pageOf = (items: number[], page: number, perPage: number, totalPages: number | undefined): CloudflarePage<number> => ({
    items,
    page,
    perPage,
    totalPages,
  });

  it('stops when result_info says the last page was served, without the SDK’s extra empty page', async () => {
    const asked: number[] = [];
    const all = await fetchAllPages(async (page) => {
      asked.push(page);
      return pageOf(page === 1 ? [1, 2] : [3, 4], page, 2, 2);
    });
    expect(all).toEqual([1, 2, 3, 4]);
    expect(asked).toEqual([1, 2]);
  });

  it('without a page count, stops on a short page', async () => {
    const asked: number[] = [];
    const all = await fetchAllPages(async (page) => {
      asked.push(page);
      return pageOf(page === 1 ? [1, 2] : [3], page, 2, undefined);
    });
    expect(all).toEqual([1, 2, 3]);
    expect(asked).toEqual([1, 2]);
  });

  it('makes one request for an empty listing', async () => {
    let calls = 0;
    expect(await fetchAllPages(async (page) => (calls++, pageOf([], page, 1000, 0)))).toEqual([]);
    expect(calls).toBe(1);
  });
});
