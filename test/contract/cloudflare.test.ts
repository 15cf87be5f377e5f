/**
 * Contract tests for the Cloudflare double, tunnel side: the official SDK 7.3.0 drives every tunnel
 * operation tenantform uses, and the double must answer as Cloudflare documents it.
 * DNS records: cloudflare-dns.test.ts. Faults, auth and rate limits: cloudflare-faults.test.ts.
 */
import type Cloudflare from 'cloudflare';
import { BadRequestError, ConflictError, NotFoundError } from 'cloudflare';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startCloudflareDouble, type CloudflareDouble } from '../support/cloudflare-double/index.js';
import { codeOf, failureOf, sdkFor } from './cloudflare-sdk.js';

let double: CloudflareDouble;
let cf: Cloudflare;
let account_id: string;

beforeAll(async () => {
  double = await startCloudflareDouble();
  cf = sdkFor(double);
  account_id = double.accountId;
});
afterAll(() => double.close());
beforeEach(() => double.reset());

const tunnels = () => cf.zeroTrust.tunnels.cloudflared;
const create = (name: string) => tunnels().create({ account_id, name, config_src: 'cloudflare' });

async function listNames(params: Omit<Parameters<Cloudflare['zeroTrust']['tunnels']['cloudflared']['list']>[0], 'account_id'>): Promise<string[]> {
  const names: string[] = [];
  for await (const t of tunnels().list({ account_id, per_page: 1000, ...params })) names.push(t.name!);
  return names;
}

describe('tunnel create', () => {
  it('returns the tunnel with its token and credentials file, and stores it', async () => {
    const created = (await create('tf-dev-acme')) as Awaited<ReturnType<typeof create>> & {
      token: string;
      credentials_file: { AccountTag: string; TunnelID: string; TunnelName: string; TunnelSecret: string };
    };
    expect(created).toMatchObject({
      name: 'tf-dev-acme',
      account_tag: account_id,
      deleted_at: null,
      conns_active_at: null,
      tun_type: 'cfd_tunnel',
      status: 'inactive',
      remote_config: true,
      config_src: 'cloudflare',
    });
    expect(created.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.conns_inactive_at).toBe(created.created_at);
    expect(created.credentials_file).toMatchObject({ AccountTag: account_id, TunnelID: created.id, TunnelName: 'tf-dev-acme' });
    const decoded = JSON.parse(Buffer.from(created.token, 'base64').toString('utf8')) as Record<string, string>;
    expect(decoded).toEqual({ a: account_id, t: created.id, s: created.credentials_file.TunnelSecret });
    expect(double.tunnels().map((t) => t.name)).toEqual(['tf-dev-acme']);
  });

  it('refuses a second live tunnel with the same name (409, code 1013) and frees the name on delete', async () => {
    const first = await create('tf-dev-dup');
    const error = await failureOf(create('tf-dev-dup'));
    expect(error).toBeInstanceOf(ConflictError);
    expect(codeOf(error)).toBe(1013);
    expect(double.requests.filter((r) => r.method === 'POST')).toHaveLength(2); // maxRetries 0: no retry of the 409

    await tunnels().delete(first.id!, { account_id });
    const second = await create('tf-dev-dup');
    expect(second.id).not.toBe(first.id);
  });
});

describe('tunnel list', () => {
  it('pages through every tunnel with for-await, stopping on the first empty page', async () => {
    const names = Array.from({ length: 7 }, (_, i) => `tf-dev-t${i}`);
    for (const name of names) await create(name);
    double.requests.length = 0;

    const seen: string[] = [];
    for await (const t of tunnels().list({ account_id, per_page: 3, is_deleted: false })) seen.push(t.name!);

    expect(seen).toEqual(names);
    // ceil(7/3) pages with items, then the empty page that ends the iteration.
    expect(double.requests.map((r) => new URLSearchParams(r.query).get('page'))).toEqual([null, '2', '3', '4']);
  });

  it('reports result_info and answers past the last page with an empty page', async () => {
    for (const name of ['a1', 'a2', 'a3']) await create(name);
    const first = await tunnels().list({ account_id, per_page: 2 });
    expect(first.result.map((t) => t.name)).toEqual(['a1', 'a2']);
    expect(first.result_info).toMatchObject({ page: 1, per_page: 2, count: 2, total_count: 3 });
    const beyond = await tunnels().list({ account_id, per_page: 2, page: 9 });
    expect(beyond.result).toEqual([]);
  });

  it('filters by name, prefix, uuid and deletion state; hides deleted tunnels by default', async () => {
    const keep = await create('tf-dev-acme');
    await create('tf-dev-globex');
    await create('tf-prod-acme');
    const gone = await create('tf-dev-gone');
    await tunnels().delete(gone.id!, { account_id });

    expect(await listNames({ name: 'tf-dev-acme' })).toEqual(['tf-dev-acme']);
    expect(await listNames({ name: 'tf-dev' })).toEqual([]); // name is exact, not a prefix
    expect(await listNames({ include_prefix: 'tf-dev-' })).toEqual(['tf-dev-acme', 'tf-dev-globex']);
    expect(await listNames({ exclude_prefix: 'tf-dev-' })).toEqual(['tf-prod-acme']);
    expect(await listNames({ uuid: keep.id! })).toEqual(['tf-dev-acme']);
    expect(await listNames({})).toEqual(['tf-dev-acme', 'tf-dev-globex', 'tf-prod-acme']);
    expect(await listNames({ is_deleted: false })).toEqual(['tf-dev-acme', 'tf-dev-globex', 'tf-prod-acme']);
    expect(await listNames({ is_deleted: true })).toEqual(['tf-dev-gone']);
    expect(await listNames({ is_deleted: true, name: 'tf-dev-acme' })).toEqual([]);
  });

  it('filters by status and by existed_at', async () => {
    const before = new Date(Date.now() - 60_000).toISOString();
    const busy = await create('tf-dev-busy');
    await create('tf-dev-idle');
    double.attachConnector(busy.id!);
    expect(await listNames({ status: 'healthy' })).toEqual(['tf-dev-busy']);
    expect(await listNames({ status: 'inactive' })).toEqual(['tf-dev-idle']);
    expect(await listNames({ existed_at: before })).toEqual([]);
    expect(await listNames({ existed_at: new Date(Date.now() + 60_000).toISOString() })).toEqual(['tf-dev-busy', 'tf-dev-idle']);
  });
});

describe('tunnel get, edit and delete', () => {
  it('gets a tunnel by id and 404s an unknown one', async () => {
    const created = await create('tf-dev-get');
    expect(await tunnels().get(created.id!, { account_id })).toMatchObject({ id: created.id, name: 'tf-dev-get' });
    const error = await failureOf(tunnels().get('00000000-0000-4000-8000-000000000000', { account_id }));
    expect(error).toBeInstanceOf(NotFoundError);
  });

  it('renames a tunnel, refusing a name another live tunnel holds', async () => {
    const a = await create('tf-dev-old');
    await create('tf-dev-taken');
    expect(await tunnels().edit(a.id!, { account_id, name: 'tf-dev-new' })).toMatchObject({ id: a.id, name: 'tf-dev-new' });
    expect(double.tunnels().find((t) => t.id === a.id)?.name).toBe('tf-dev-new');
    const error = await failureOf(tunnels().edit(a.id!, { account_id, name: 'tf-dev-taken' }));
    expect(codeOf(error)).toBe(1013);
  });

  it('refuses to delete a tunnel with connectors (400, 1022) until its connections are cleaned up', async () => {
    const t = await create('tf-dev-busy');
    const c1 = double.attachConnector(t.id!);
    const c2 = double.attachConnector(t.id!);
    expect((await tunnels().get(t.id!, { account_id })).status).toBe('healthy');

    const refused = await failureOf(tunnels().delete(t.id!, { account_id }));
    expect(refused).toBeInstanceOf(BadRequestError);
    expect(codeOf(refused)).toBe(1022);
    expect(double.tunnels()[0]?.deletedAt).toBeNull();

    const clients = (await tunnels().connections.get(t.id!, { account_id })).result;
    expect(clients.map((c) => c.id).sort()).toEqual([c1, c2].sort());
    expect(clients[0]?.conns?.[0]).toMatchObject({ is_pending_reconnect: false });

    await tunnels().connections.delete(t.id!, { account_id, client_id: c1 });
    expect((await tunnels().connections.get(t.id!, { account_id })).result.map((c) => c.id)).toEqual([c2]);
    await tunnels().connections.delete(t.id!, { account_id }); // no client_id: every connector
    expect((await tunnels().connections.get(t.id!, { account_id })).result).toEqual([]);
    expect((await tunnels().get(t.id!, { account_id })).status).toBe('down');

    const deleted = await tunnels().delete(t.id!, { account_id });
    expect(deleted.deleted_at).toEqual(expect.any(String));
    expect(double.tunnels()[0]?.deletedAt).toBe(deleted.deleted_at);
  });

  it('deletes a tunnel with connectors at once with ?cascade=true', async () => {
    const t = await create('tf-dev-cascade');
    double.attachConnector(t.id!);
    const deleted = await tunnels().delete(t.id!, { account_id }, { query: { cascade: true } });
    expect(deleted.deleted_at).toEqual(expect.any(String));
    expect(double.tunnels()[0]).toMatchObject({ connectors: [], deletedAt: deleted.deleted_at });
    expect(double.requests.at(-1)?.query).toBe('cascade=true');
  });

  it('treats a deleted tunnel as gone for edits and a second delete', async () => {
    const t = await create('tf-dev-twice');
    await tunnels().delete(t.id!, { account_id });
    expect(await failureOf(tunnels().delete(t.id!, { account_id }))).toBeInstanceOf(NotFoundError);
    expect(await failureOf(tunnels().edit(t.id!, { account_id, name: 'x' }))).toBeInstanceOf(NotFoundError);
  });
});

describe('tunnel token', () => {
  it('returns the run token as a string', async () => {
    const t = await create('tf-dev-token');
    const token = await tunnels().token.get(t.id!, { account_id });
    expect(typeof token).toBe('string');
    expect(JSON.parse(Buffer.from(token, 'base64').toString('utf8'))).toMatchObject({ a: account_id, t: t.id });
  });
});

describe('tunnel configurations', () => {
  const platform = { hostname: 'acme.example.com', service: 'http://localhost:8080' };

  it('starts at version 0, then each PUT replaces the whole config and bumps the version', async () => {
    const t = await create('tf-dev-cfg');
    expect(await tunnels().configurations.get(t.id!, { account_id })).toMatchObject({ tunnel_id: t.id, version: 0, config: null });

    const v1 = await tunnels().configurations.update(t.id!, {
      account_id,
      config: { ingress: [platform, { hostname: '', service: 'http_status:404' }], originRequest: { connectTimeout: 10 } },
    });
    expect(v1).toMatchObject({ tunnel_id: t.id, version: 1, source: 'cloudflare' });

    const v2 = await tunnels().configurations.update(t.id!, {
      account_id,
      config: {
        ingress: [
          { hostname: 'globex.example.com', service: 'http://localhost:9090' },
          { hostname: '', service: 'http_status:404' },
        ],
      },
    });
    expect(v2.version).toBe(2);
    const stored = await tunnels().configurations.get(t.id!, { account_id });
    expect(stored.config).toEqual({
      ingress: [
        { hostname: 'globex.example.com', service: 'http://localhost:9090' },
        { hostname: '', service: 'http_status:404' },
      ],
    });
    expect(double.configurations(t.id!)).toEqual(stored);
  });

  it('accepts every form of catch-all as the last rule: no hostname, "" or "*"', async () => {
    const t = await create('tf-dev-catchall');
    const lastRules = [{ service: 'http_status:404' }, { hostname: '', service: 'http_status:404' }, { hostname: '*', service: 'http_status:404' }];
    for (const last of lastRules) {
      // The SDK types make hostname required, although the API's catch-all omits it.
      const ingress = [platform, last] as Array<{ hostname: string; service: string }>;
      await tunnels().configurations.update(t.id!, { account_id, config: { ingress } });
    }
    expect(double.configurations(t.id!)).toMatchObject({ version: 3 });
  });

  it('rejects a config whose last rule is not a catch-all (400, 1056) and keeps the old one', async () => {
    const t = await create('tf-dev-badcfg');
    await tunnels().configurations.update(t.id!, { account_id, config: { ingress: [platform, { hostname: '', service: 'http_status:404' }] } });
    for (const last of [platform, { hostname: '', path: '/api', service: 'http_status:404' }]) {
      const error = await failureOf(tunnels().configurations.update(t.id!, { account_id, config: { ingress: [last] } }));
      expect(error).toBeInstanceOf(BadRequestError);
      expect(codeOf(error)).toBe(1056);
      expect(error.errors[0]?.message).toMatch(/last ingress rule must match all URLs/);
    }
    expect(double.configurations(t.id!)).toMatchObject({ version: 1 });
  });
});
