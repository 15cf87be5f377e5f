/**
 * Contract tests for the Cloudflare double, DNS side: records created, listed in every filter form,
 * changed, deleted and batched through the official SDK 7.3.0.
 */
import type Cloudflare from 'cloudflare';
import { BadRequestError, NotFoundError } from 'cloudflare';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startCloudflareDouble, type CloudflareDouble } from '../support/cloudflare-double/index.js';
import { codeOf, failureOf, sdkFor } from './cloudflare-sdk.js';

let double: CloudflareDouble;
let cf: Cloudflare;
let zone_id: string;

beforeAll(async () => {
  double = await startCloudflareDouble();
  cf = sdkFor(double);
  zone_id = double.zoneId;
});
afterAll(() => double.close());
beforeEach(() => double.reset());

type ListParams = Omit<Parameters<Cloudflare['dns']['records']['list']>[0], 'zone_id'>;
type CreateParams = Omit<Extract<Parameters<Cloudflare['dns']['records']['create']>[0], { type: 'CNAME' }>, 'zone_id'>;

const cname = (name: string, content: string, extra: Partial<CreateParams> = {}) =>
  cf.dns.records.create({ zone_id, type: 'CNAME', name, content, ttl: 1, proxied: true, ...extra });

/** Names of every matching record, in the order listed, across all pages. */
async function names(params: ListParams, rawQuery?: Record<string, string>): Promise<string[]> {
  const out: string[] = [];
  const pages = rawQuery ? cf.dns.records.list({ zone_id }, { query: rawQuery }) : cf.dns.records.list({ zone_id, ...params });
  for await (const r of pages) out.push(r.name.split('.')[0]!);
  return out;
}

describe('DNS record create', () => {
  it('creates a proxied CNAME to a tunnel and returns every documented field', async () => {
    const created = await cname('Acme.Example.com', 'f70ff985-a4ef-4643-bbbc-4a0ed4fc8415.cfargotunnel.com', {
      comment: 'tenantform env=dev org=acme',
      tags: ['owner:tenantform', 'env:dev'],
    });
    expect(created).toMatchObject({
      type: 'CNAME',
      name: 'acme.example.com',
      content: 'f70ff985-a4ef-4643-bbbc-4a0ed4fc8415.cfargotunnel.com',
      proxied: true,
      ttl: 1,
      comment: 'tenantform env=dev org=acme',
      tags: ['owner:tenantform', 'env:dev'],
    });
    expect(created.id).toMatch(/^[0-9a-f]{32}$/);
    // Present at runtime although the SDK's RecordResponse types leave them out.
    expect(created).toMatchObject({ proxiable: true, meta: {}, settings: {}, created_on: expect.any(String), modified_on: expect.any(String) });
    expect(double.dnsRecords()).toHaveLength(1);
  });

  it('expands @ and relative names into the zone', async () => {
    await cf.dns.records.create({ zone_id, type: 'TXT', name: '@', content: 'apex', ttl: 1 });
    await cf.dns.records.create({ zone_id, type: 'TXT', name: 'rel', content: 'relative', ttl: 1 });
    expect(double.dnsRecords().map((r) => r.name)).toEqual([double.zoneName, `rel.${double.zoneName}`]);
  });

  it.each([
    ['an identical record', 'CNAME', 'a.example.com', 'x.cfargotunnel.com', {}, 81058],
    ['the same record with another ttl', 'CNAME', 'a.example.com', 'x.cfargotunnel.com', { ttl: 300 }, 81057],
    ['a CNAME where a CNAME exists', 'CNAME', 'A.EXAMPLE.COM', 'y.cfargotunnel.com', {}, 81053],
    ['a CNAME where an A record exists', 'CNAME', 'b.example.com', 'y.cfargotunnel.com', {}, 81053],
    ['an A record where a CNAME exists', 'A', 'a.example.com', '192.0.2.7', { proxied: false }, 81054],
    ['a TXT record where a CNAME exists', 'TXT', 'a.example.com', 'hello', { proxied: false }, 81054],
  ] as const)('refuses %s', async (_label, type, name, content, extra, code) => {
    await cname('a.example.com', 'x.cfargotunnel.com');
    await cf.dns.records.create({ zone_id, type: 'A', name: 'b.example.com', content: '192.0.2.1', ttl: 1 });
    const error = await failureOf(
      cf.dns.records.create({ zone_id, type, name, content, ttl: 1, proxied: true, ...extra } as Parameters<Cloudflare['dns']['records']['create']>[0]),
    );
    expect(error).toBeInstanceOf(BadRequestError);
    expect(codeOf(error)).toBe(code);
    expect(double.dnsRecords()).toHaveLength(2);
  });
});

describe('DNS record list', () => {
  beforeEach(async () => {
    await cname('a.example.com', 't1.cfargotunnel.com', { comment: 'owner=acme env=dev', tags: ['owner:acme', 'env:dev'] });
    await cname('b.example.com', 't2.cfargotunnel.com', { comment: 'owner=globex env=dev', tags: ['owner:globex', 'env:dev'] });
    await cf.dns.records.create({ zone_id, type: 'A', name: 'c.example.com', content: '192.0.2.10', ttl: 300, tags: ['legacy:yes'] });
    await cf.dns.records.create({ zone_id, type: 'TXT', name: 'd.example.com', content: 'hello world', ttl: 3600 });
    await cname('e.example.com', 'target.other.net', { proxied: false, comment: 'Manual', tags: ['owner:acme-labs'] });
  });

  const sorted = async (p: Promise<string[]>) => (await p).sort();

  it.each<[string, ListParams, string[]]>([
    ['name.exact (case-insensitive)', { name: { exact: 'A.EXAMPLE.com' } }, ['a']],
    ['name.contains', { name: { contains: 'b.exa' } }, ['b']],
    ['name.startswith', { name: { startswith: 'c.' } }, ['c']],
    ['name.endswith', { name: { endswith: '.EXAMPLE.COM' } }, ['a', 'b', 'c', 'd', 'e']],
    ['content.exact', { content: { exact: 't1.cfargotunnel.com' } }, ['a']],
    ['content.contains', { content: { contains: 'CFARGOTUNNEL' } }, ['a', 'b']],
    ['content.startswith', { content: { startswith: '192.0' } }, ['c']],
    ['content.endswith', { content: { endswith: '.net' } }, ['e']],
    ['comment.exact (case-insensitive)', { comment: { exact: 'manual' } }, ['e']],
    ['comment.contains', { comment: { contains: 'env=dev' } }, ['a', 'b']],
    ['comment.startswith', { comment: { startswith: 'owner=' } }, ['a', 'b']],
    ['comment.endswith', { comment: { endswith: 'DEV' } }, ['a', 'b']],
    ['comment.present', { comment: { present: 'x' } }, ['a', 'b', 'e']],
    ['comment.absent', { comment: { absent: 'x' } }, ['c', 'd']],
    ['tag.present', { tag: { present: 'OWNER' } }, ['a', 'b', 'e']],
    ['tag.absent', { tag: { absent: 'owner' } }, ['c', 'd']],
    ['tag.exact (case-insensitive)', { tag: { exact: 'owner:ACME' } }, ['a']],
    ['tag.contains (on the value)', { tag: { contains: 'owner:acme' } }, ['a', 'e']],
    ['tag.startswith', { tag: { startswith: 'owner:glo' } }, ['b']],
    ['tag.endswith', { tag: { endswith: 'owner:labs' } }, ['e']],
    ['type', { type: 'CNAME' }, ['a', 'b', 'e']],
    ['proxied=true', { proxied: true }, ['a', 'b']],
    ['proxied=false', { proxied: false }, ['c', 'd', 'e']],
    ['several filters, match=all (default)', { type: 'CNAME', comment: { contains: 'dev' }, tag: { exact: 'owner:globex' } }, ['b']],
    ['match=any', { match: 'any', name: { exact: 'a.example.com' }, content: { exact: '192.0.2.10' } }, ['a', 'c']],
    ['match=all', { match: 'all', name: { exact: 'a.example.com' }, content: { exact: '192.0.2.10' } }, []],
  ])('filters by %s', async (_label, params, expected) => {
    expect(await sorted(names(params))).toEqual(expected);
  });

  it.each<[string, Record<string, string>, string[]]>([
    ['name=', { name: 'D.example.com' }, ['d']],
    ['content=', { content: 'hello world' }, ['d']],
    ['comment=', { comment: 'MANUAL' }, ['e']],
    ['tag=name (≡ tag.present)', { tag: 'legacy' }, ['c']],
    ['tag=name:value (≡ tag.exact)', { tag: 'owner:acme' }, ['a']],
  ])('accepts the plain alias %s', async (_label, query, expected) => {
    expect(await sorted(names({}, query))).toEqual(expected);
  });

  it('combines tag filters with tag_match=any|all', async () => {
    const both = { 'tag.exact': 'owner:acme', 'tag.present': 'legacy' };
    expect(await sorted(names({}, { ...both, tag_match: 'any' }))).toEqual(['a', 'c']);
    expect(await sorted(names({}, { ...both, tag_match: 'all' }))).toEqual([]);
    expect(await sorted(names({}, both))).toEqual([]); // all is the default
    // tag_match governs the tag filters only; match governs the rest.
    expect(await sorted(names({}, { ...both, tag_match: 'any', type: 'A' }))).toEqual(['c']);
  });

  it('orders by type by default, and by any documented field in either direction', async () => {
    expect(await names({})).toEqual(['c', 'a', 'b', 'e', 'd']); // A, CNAME×3 (creation order), TXT
    expect(await names({ order: 'name', direction: 'desc' })).toEqual(['e', 'd', 'c', 'b', 'a']);
    expect(await names({ order: 'content', direction: 'asc' })).toEqual(['c', 'd', 'a', 'b', 'e']);
    expect(await names({ order: 'ttl', direction: 'desc' })).toEqual(['d', 'c', 'a', 'b', 'e']);
    expect(await names({ order: 'proxied', direction: 'desc' })).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('pages with a default of 100 per page, result_info, and an empty page past the end', async () => {
    const first = await cf.dns.records.list({ zone_id });
    expect(first.result_info).toMatchObject({ page: 1, per_page: 100, count: 5, total_count: 5 });

    double.requests.length = 0;
    expect(await names({ per_page: 2 })).toHaveLength(5);
    expect(double.requests.map((r) => new URLSearchParams(r.query).get('page'))).toEqual([null, '2', '3', '4']);

    const page2 = await cf.dns.records.list({ zone_id, per_page: 2, page: 2 });
    expect(page2.result_info).toMatchObject({ page: 2, per_page: 2, count: 2, total_count: 5 });
    expect((await cf.dns.records.list({ zone_id, per_page: 2, page: 4 })).result).toEqual([]);
  });
});

describe('DNS record get, edit, update, delete', () => {
  const unknown = '0123456789abcdef0123456789abcdef';

  it('gets, patches and replaces a record', async () => {
    const r = await cname('svc.example.com', 't1.cfargotunnel.com', { comment: 'one', tags: ['owner:acme'] });
    expect(await cf.dns.records.get(r.id, { zone_id })).toMatchObject({ id: r.id, name: 'svc.example.com' });

    // The 2024 schema requires content in a PATCH body as well, so tenantform sends it.
    const patched = await cf.dns.records.edit(r.id, { zone_id, type: 'CNAME', name: 'svc.example.com', ttl: 1, content: 't2.cfargotunnel.com' });
    expect(patched).toMatchObject({ content: 't2.cfargotunnel.com', comment: 'one', tags: ['owner:acme'], proxied: true });

    const replaced = await cf.dns.records.update(r.id, { zone_id, type: 'CNAME', name: 'svc.example.com', ttl: 120, content: 't3.cfargotunnel.com' });
    expect(replaced).toMatchObject({ content: 't3.cfargotunnel.com', ttl: 120, tags: [], proxied: false });
    expect(replaced.comment).toBeUndefined();
    expect(double.dnsRecords()).toEqual([expect.objectContaining({ id: r.id, content: 't3.cfargotunnel.com' })]);
  });

  it('refuses a change that collides with another record', async () => {
    await cname('one.example.com', 't1.cfargotunnel.com');
    const two = await cname('two.example.com', 't2.cfargotunnel.com');
    const error = await failureOf(cf.dns.records.update(two.id, { zone_id, type: 'CNAME', name: 'one.example.com', ttl: 1, content: 't9.cfargotunnel.com' }));
    expect(codeOf(error)).toBe(81053);
  });

  it('deletes a record, returning its id, and answers 404 / 81044 for an unknown id', async () => {
    const r = await cname('gone.example.com', 't1.cfargotunnel.com');
    expect(await cf.dns.records.delete(r.id, { zone_id })).toEqual({ id: r.id });
    expect(double.dnsRecords()).toEqual([]);
    for (const call of [
      cf.dns.records.delete(r.id, { zone_id }),
      cf.dns.records.get(unknown, { zone_id }),
      cf.dns.records.edit(unknown, { zone_id, type: 'CNAME', name: 'x.example.com', ttl: 1, content: 'y.example.net' }),
      cf.dns.records.update(unknown, { zone_id, type: 'CNAME', name: 'x.example.com', ttl: 1, content: 'y.example.net' }),
    ]) {
      const error = await failureOf(call);
      expect(error).toBeInstanceOf(NotFoundError);
      expect(codeOf(error)).toBe(81044);
    }
  });
});

describe('DNS batch', () => {
  it('applies deletes, patches, puts and posts in one call', async () => {
    const del = await cname('del.example.com', 't1.cfargotunnel.com');
    const pat = await cname('pat.example.com', 't2.cfargotunnel.com', { comment: 'before' });
    const put = await cname('put.example.com', 't3.cfargotunnel.com', { comment: 'dropped by put' });
    // The new record takes the name the delete frees: deletes run first.
    const result = await cf.dns.records.batch({
      zone_id,
      deletes: [{ id: del.id }],
      patches: [{ id: pat.id, type: 'CNAME', name: 'pat.example.com', ttl: 1, content: 't2.cfargotunnel.com', comment: 'after' }],
      puts: [{ id: put.id, type: 'CNAME', name: 'put.example.com', ttl: 1, content: 't4.cfargotunnel.com' }],
      posts: [{ type: 'CNAME', name: 'del.example.com', ttl: 1, content: 't5.cfargotunnel.com', proxied: true }],
    });
    expect(result.deletes?.map((r) => r.id)).toEqual([del.id]);
    expect(result.patches?.[0]).toMatchObject({ id: pat.id, comment: 'after' });
    expect(result.puts?.[0]).toMatchObject({ id: put.id, content: 't4.cfargotunnel.com' });
    expect(result.puts?.[0]?.comment).toBeUndefined();
    expect(result.posts?.[0]).toMatchObject({ name: 'del.example.com', content: 't5.cfargotunnel.com' });
    expect(
      double
        .dnsRecords()
        .map((r) => `${r.name}=${r.content}`)
        .sort(),
    ).toEqual(['del.example.com=t5.cfargotunnel.com', 'pat.example.com=t2.cfargotunnel.com', 'put.example.com=t4.cfargotunnel.com']);
  });

  it.each<[string, Pick<Parameters<Cloudflare['dns']['records']['batch']>[0], 'deletes' | 'posts'>, number]>([
    ['a post that conflicts', { posts: [{ type: 'CNAME', name: 'keep.example.com', ttl: 1, content: 'k.cfargotunnel.com', proxied: true }] }, 81058],
    ['a delete of an unknown id', { deletes: [{ id: '0123456789abcdef0123456789abcdef' }] }, 81044],
  ])('changes nothing when one part fails: %s', async (_label, failing, code) => {
    const keep = await cname('keep.example.com', 'k.cfargotunnel.com');
    const other = await cname('other.example.com', 'o.cfargotunnel.com');
    const before = double.dnsRecords();
    const error = await failureOf(
      cf.dns.records.batch({
        zone_id,
        deletes: [{ id: other.id }, ...(failing.deletes ?? [])],
        patches: [{ id: keep.id, type: 'CNAME', name: 'keep.example.com', ttl: 1, content: 'k.cfargotunnel.com', comment: 'changed' }],
        posts: [{ type: 'A', name: 'new.example.com', ttl: 1, content: '192.0.2.9' }, ...(failing.posts ?? [])],
      }),
    );
    expect(codeOf(error)).toBe(code);
    expect(double.dnsRecords()).toEqual(before);
  });
});
