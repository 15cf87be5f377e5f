/**
 * Contract tests for the Cloudflare double's failure modes as the official SDK meets them:
 * authentication, unknown objects and routes, rate limits, 5xx, dropped connections and the
 * "committed, then the connection dropped" case that makes a retried POST see its own conflict.
 */
import Cloudflare, { APIConnectionError, AuthenticationError, BadRequestError, ConflictError, InternalServerError, NotFoundError, RateLimitError } from 'cloudflare';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startCloudflareDouble, type CloudflareDouble } from '../support/cloudflare-double/index.js';
import { codeOf, failureOf, sdkFor } from './cloudflare-sdk.js';

let double: CloudflareDouble;

beforeAll(async () => {
  double = await startCloudflareDouble();
});
afterAll(() => double.close());
beforeEach(() => double.reset());
afterEach(() => double.setRateLimit({ requests: 1200, windowSeconds: 300 }));

const listTunnels = (cf: Cloudflare) => cf.zeroTrust.tunnels.cloudflared.list({ account_id: double.accountId, per_page: 50 });
const statuses = () => double.requests.map((r) => r.status);

describe('authentication', () => {
  it('rejects a request without Authorization header: 400, 6003 with error_chain 6111', async () => {
    const cf = new Cloudflare({ apiToken: null, baseURL: double.baseURL, maxRetries: 0 });
    const error = await failureOf(listTunnels(cf));
    expect(error).toBeInstanceOf(BadRequestError);
    expect(codeOf(error)).toBe(6003);
    expect(error.error).toMatchObject({ success: false, errors: [{ code: 6003, error_chain: [{ code: 6111 }] }], result: null });
  });

  it('rejects a malformed Authorization header with 6003', async () => {
    const cf = new Cloudflare({ apiToken: null, baseURL: double.baseURL, maxRetries: 0, defaultHeaders: { Authorization: `Token ${double.apiToken}` } });
    expect(codeOf(await failureOf(listTunnels(cf)))).toBe(6003);
  });

  it('rejects a wrong token: 401, 10000', async () => {
    const cf = new Cloudflare({ apiToken: 'not-the-token', baseURL: double.baseURL, maxRetries: 0 });
    const error = await failureOf(listTunnels(cf));
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(codeOf(error)).toBe(10000);
  });

  it('serves the product configuration through the standard environment variables', async () => {
    expect(Object.keys(double.env).sort()).toEqual(['CLOUDFLARE_ACCOUNT_ID', 'CLOUDFLARE_API_TOKEN', 'CLOUDFLARE_BASE_URL', 'CLOUDFLARE_ZONE_ID']);
    const saved = { ...process.env };
    Object.assign(process.env, double.env);
    try {
      const cf = new Cloudflare({ maxRetries: 0 }); // token and base URL from the environment only
      await cf.zeroTrust.tunnels.cloudflared.create({ account_id: process.env.CLOUDFLARE_ACCOUNT_ID!, name: 'from-env' });
    } finally {
      for (const key of Object.keys(double.env)) if (saved[key] === undefined) delete process.env[key];
      Object.assign(process.env, saved);
    }
    expect(double.tunnels().map((t) => t.name)).toEqual(['from-env']);
  });
});

describe('routing', () => {
  it('answers an unknown account or zone with 404, 7003', async () => {
    const cf = sdkFor(double);
    const other = 'ffffffffffffffffffffffffffffffff';
    for (const call of [cf.zeroTrust.tunnels.cloudflared.list({ account_id: other, per_page: 5 }), cf.dns.records.list({ zone_id: other })]) {
      const error = await failureOf(call);
      expect(error).toBeInstanceOf(NotFoundError);
      expect(codeOf(error)).toBe(7003);
    }
  });

  it('answers an unknown route with a JSON 404, 7000', async () => {
    const res = await fetch(`${double.baseURL}/accounts/${double.accountId}/no_such_thing`, {
      headers: { authorization: `Bearer ${double.apiToken}` },
    });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ success: false, errors: [{ code: 7000, message: 'No route for that URI' }], messages: [], result: null });
  });
});

describe('rate limiting', () => {
  it('answers over the limit with 429, retry-after and code 971, and blocks until the window rolls', async () => {
    double.setRateLimit({ requests: 2, windowSeconds: 60 });
    const cf = sdkFor(double);
    await listTunnels(cf);
    await listTunnels(cf);
    for (let i = 0; i < 2; i++) {
      const error = await failureOf(listTunnels(cf));
      expect(error).toBeInstanceOf(RateLimitError);
      expect(codeOf(error)).toBe(971);
      const retryAfter = Number(error.headers?.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(55);
      expect(retryAfter).toBeLessThanOrEqual(60);
    }
    expect(statuses()).toEqual([200, 200, 429, 429]);
  });

  it('counts rejected requests too', async () => {
    double.setRateLimit({ requests: 2, windowSeconds: 60 });
    const bad = new Cloudflare({ apiToken: 'wrong', baseURL: double.baseURL, maxRetries: 0 });
    await failureOf(listTunnels(bad));
    await failureOf(listTunnels(bad));
    expect(await failureOf(listTunnels(sdkFor(double)))).toBeInstanceOf(RateLimitError);
    expect(statuses()).toEqual([401, 401, 429]);
  });

  it('lets the SDK wait out retry-after and then succeed once the window has rolled', async () => {
    double.setRateLimit({ requests: 2, windowSeconds: 1, retryAfterSeconds: 1 });
    const arrivals: number[] = [];
    const stop = double.onRequest(() => void arrivals.push(Date.now()));
    const cf = sdkFor(double, 2);
    await listTunnels(cf);
    await listTunnels(cf);
    await listTunnels(cf); // 429, then the SDK's retry after 1 s lands in a fresh window
    stop();
    expect(statuses()).toEqual([200, 200, 429, 200]);
    expect(arrivals[3]! - arrivals[2]!).toBeGreaterThanOrEqual(900);
  });

  it('surfaces a persistent 429 as RateLimitError once the retries are spent', async () => {
    double.setRateLimit({ requests: 1, windowSeconds: 300, retryAfterSeconds: 1 });
    const cf = sdkFor(double, 1);
    await listTunnels(cf);
    const error = await failureOf(listTunnels(cf));
    expect(error).toBeInstanceOf(RateLimitError);
    expect(statuses()).toEqual([200, 429, 429]);
  });

  it('forces a 429 with the rate-limit fault, which the SDK retries', async () => {
    double.faults.add({ kind: 'rate-limit', retryAfterSeconds: 0 });
    await listTunnels(sdkFor(double, 2));
    expect(statuses()).toEqual([429, 200]);
  });
});

describe('injected faults', () => {
  it('retries a 5xx and succeeds', async () => {
    double.faults.add({ kind: 'status', status: 503, method: 'GET', path: /\/cfd_tunnel$/ });
    await listTunnels(sdkFor(double, 2));
    expect(statuses()).toEqual([503, 200]);
  });

  it('surfaces a 5xx as InternalServerError without retries, with the injected code', async () => {
    double.faults.add({ kind: 'status', status: 502, code: 10013, times: 1 });
    const error = await failureOf(listTunnels(sdkFor(double)));
    expect(error).toBeInstanceOf(InternalServerError);
    expect(error.status).toBe(502);
    expect(codeOf(error)).toBe(10013);
  });

  it('only fails the requests a fault matches, as many times as asked', async () => {
    double.faults.add({ kind: 'status', status: 500, method: 'POST', times: 2 });
    const cf = sdkFor(double);
    await listTunnels(cf);
    await failureOf(cf.zeroTrust.tunnels.cloudflared.create({ account_id: double.accountId, name: 'x' }));
    await failureOf(cf.zeroTrust.tunnels.cloudflared.create({ account_id: double.accountId, name: 'x' }));
    await cf.zeroTrust.tunnels.cloudflared.create({ account_id: double.accountId, name: 'x' });
    expect(statuses()).toEqual([200, 500, 500, 200]);
    double.faults.add({ kind: 'status', status: 500 });
    double.faults.clear();
    await listTunnels(cf);
    expect(statuses().at(-1)).toBe(200);
  });

  it('narrows a fault with a predicate', async () => {
    double.faults.add({ kind: 'status', status: 500, match: (req) => new URLSearchParams(req.query).get('page') === '2' });
    const cf = sdkFor(double);
    await listTunnels(cf);
    const error = await failureOf(cf.zeroTrust.tunnels.cloudflared.list({ account_id: double.accountId, per_page: 50, page: 2 }));
    expect(error).toBeInstanceOf(InternalServerError);
    expect(statuses()).toEqual([200, 500]);
  });

  it('retries a dropped connection and succeeds', async () => {
    double.faults.add({ kind: 'drop', method: 'GET' });
    const page = await listTunnels(sdkFor(double, 2));
    expect(page.result).toEqual([]);
    expect(statuses()).toEqual([0, 200]);
  });

  it('surfaces a dropped connection as APIConnectionError without retries', async () => {
    double.faults.add({ kind: 'drop' });
    const error = await failureOf(listTunnels(sdkFor(double)));
    expect(error).toBeInstanceOf(APIConnectionError);
  });

  it('commit-then-drop on tunnel create: the SDK retries the POST and meets its own tunnel (409, 1013)', async () => {
    double.faults.add({ kind: 'commit-then-drop', method: 'POST', path: /\/cfd_tunnel$/ });
    const error = await failureOf(
      sdkFor(double, 1).zeroTrust.tunnels.cloudflared.create({ account_id: double.accountId, name: 'tf-dev-acme', config_src: 'cloudflare' }),
    );
    expect(error).toBeInstanceOf(ConflictError);
    expect(codeOf(error)).toBe(1013);
    expect(statuses()).toEqual([0, 409]);
    expect(double.tunnels().map((t) => t.name)).toEqual(['tf-dev-acme']);
  });

  it('commit-then-drop on DNS create: the retry meets an identical record (400, 81058)', async () => {
    double.faults.add({ kind: 'commit-then-drop', method: 'POST' });
    const error = await failureOf(
      sdkFor(double, 1).dns.records.create({ zone_id: double.zoneId, type: 'CNAME', name: 'a.example.com', content: 't.cfargotunnel.com', ttl: 1, proxied: true }),
    );
    expect(codeOf(error)).toBe(81058);
    expect(double.dnsRecords()).toHaveLength(1);
  });
});

describe('observation hooks', () => {
  it('reports each request, in order and before it is handled, until unsubscribed', async () => {
    const seen: Array<{ method: string; path: string; mutating: boolean; seq: number; tunnelsAtArrival: number }> = [];
    const stop = double.onRequest((req) => void seen.push({ ...req, tunnelsAtArrival: double.tunnels().length }));
    const cf = sdkFor(double);
    await cf.zeroTrust.tunnels.cloudflared.create({ account_id: double.accountId, name: 'hooked' });
    await listTunnels(cf);
    stop();
    await listTunnels(cf);
    const base = `/accounts/${double.accountId}/cfd_tunnel`;
    expect(seen).toEqual([
      { method: 'POST', path: base, mutating: true, seq: 1, tunnelsAtArrival: 0 },
      { method: 'GET', path: base, mutating: false, seq: 2, tunnelsAtArrival: 1 },
    ]);
  });

  it('awaits an async hook before handling the request', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let arrived!: () => void;
    const arrival = new Promise<void>((resolve) => (arrived = resolve));
    const stop = double.onRequest(() => {
      arrived();
      return held;
    });
    const create = sdkFor(double).zeroTrust.tunnels.cloudflared.create({ account_id: double.accountId, name: 'held' });
    await arrival;
    expect(double.tunnels()).toEqual([]);
    release();
    await create;
    stop();
    expect(double.tunnels().map((t) => t.name)).toEqual(['held']);
  });

  it('reset empties state, the request log and faults', async () => {
    const cf = sdkFor(double);
    const t = await cf.zeroTrust.tunnels.cloudflared.create({ account_id: double.accountId, name: 'before-reset' });
    await cf.dns.records.create({ zone_id: double.zoneId, type: 'CNAME', name: 'r.example.com', content: `${t.id}.cfargotunnel.com`, ttl: 1 });
    double.faults.add({ kind: 'status', status: 500 });
    double.reset();
    expect(double.tunnels()).toEqual([]);
    expect(double.dnsRecords()).toEqual([]);
    expect(double.requests).toEqual([]);
    await listTunnels(cf); // the fault is gone
    expect(statuses()).toEqual([200]);
  });
});
