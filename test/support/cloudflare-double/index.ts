/**
 * A stateful double of the Cloudflare v4 API (tunnels and DNS records) for the official `cloudflare`
 * SDK, reached through its `baseURL`. Every request and response is checked against Cloudflare's
 * schema (conformance.ts). Plain Node: no test-runner imports, so `tsx` scripts can start it too.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiError, failureEnvelope, notFoundRoute, successEnvelope, unroutableObject } from './api-error.js';
import { ConformanceChecker, type OperationRef, type SchemaViolation } from './conformance.js';
import { DnsRecordStore, type StoredDnsRecord } from './dns-records.js';
import { FaultQueue, type FaultSpec } from './faults.js';
import { DEFAULT_RATE_LIMIT, FixedWindowLimiter, type RateLimitSettings } from './rate-limit.js';
import { startedDoubles } from './registry.js';
import { matchRoute } from './routes.js';
import { TunnelStore, type TunnelRecord } from './tunnels.js';

export type { SchemaViolation } from './conformance.js';
export type { FaultSpec } from './faults.js';
export type { RateLimitSettings } from './rate-limit.js';
export type { TunnelRecord, ConnectorRecord, TunnelConfigRecord } from './tunnels.js';
export type DnsRecordRecord = StoredDnsRecord;

export interface CloudflareDoubleOptions {
  /** 0 / omitted = a free port on 127.0.0.1 */
  port?: number;
  /** default 1200 requests per 300 s */
  rateLimit?: RateLimitSettings;
  apiToken?: string;
  accountId?: string;
  zoneId?: string;
  zoneName?: string;
  /** default true */
  checkSchema?: boolean;
}

export interface RequestInfo {
  method: string;
  /** API path relative to the base URL, e.g. `/accounts/…/cfd_tunnel`, without the query */
  path: string;
  mutating: boolean;
  /** 1-based arrival order since start or reset */
  seq: number;
}

export interface RequestLogEntry {
  method: string;
  path: string;
  query: string;
  /** 0 when the connection was dropped instead of answered */
  status: number;
}

export interface CloudflareDouble {
  baseURL: string;
  apiToken: string;
  accountId: string;
  zoneId: string;
  zoneName: string;
  /** CLOUDFLARE_BASE_URL, CLOUDFLARE_API_TOKEN, CLOUDFLARE_ACCOUNT_ID, CLOUDFLARE_ZONE_ID */
  env: Record<string, string>;
  faults: { add(f: FaultSpec): void; clear(): void };
  /** Runs (and is awaited) before each request is handled; returns an unsubscribe function. */
  onRequest(hook: (req: RequestInfo) => void | Promise<void>): () => void;
  /** A cloudflared connector joining the tunnel; returns its client id. */
  attachConnector(tunnelId: string): string;
  /** Snapshots for assertions; deleted tunnels included. Tunnel secrets are in here: don't print them. */
  tunnels(): TunnelRecord[];
  dnsRecords(): DnsRecordRecord[];
  /** What `GET …/configurations` would return, or undefined for an unknown tunnel. */
  configurations(tunnelId: string): unknown;
  requests: RequestLogEntry[];
  violations: SchemaViolation[];
  /** Removes and returns the violations seen so far (for tests that provoke them on purpose). */
  takeViolations(): SchemaViolation[];
  /** Test-only: rewrites the next response body before it is checked and sent. */
  corruptNextResponse(mutate: (body: Record<string, unknown>) => unknown): void;
  setRateLimit(l: RateLimitSettings): void;
  /** Empties state, request counters and log, rate window and faults. Violations are kept. */
  reset(): void;
  close(): Promise<void>;
}

const BASE_PATH = '/client/v4';
const DEFAULTS = {
  apiToken: 'cf-double-token-7c1e9a53b2d84f06',
  accountId: '0a1b2c3d4e5f60718293a4b5c6d7e8f9',
  zoneId: 'f9e8d7c6b5a4938271605f4e3d2c1b0a',
  zoneName: 'example.com',
};
const AUTH_HEADER = /^Bearer [A-Za-z0-9._~+/=-]+$/;

type Outcome = { drop: true } | { drop: false; status: number; body: Record<string, unknown>; headers: Record<string, string> };

class DoubleServer implements CloudflareDouble {
  baseURL = '';
  env: Record<string, string> = {};
  readonly requests: RequestLogEntry[] = [];
  readonly violations: SchemaViolation[] = [];
  readonly faults = new FaultQueue();
  private readonly server: Server;
  private readonly limiter: FixedWindowLimiter;
  private readonly tunnelStore: TunnelStore;
  private readonly dns: DnsRecordStore;
  private readonly checker: ConformanceChecker | undefined;
  private readonly hooks = new Set<(req: RequestInfo) => void | Promise<void>>();
  private corruption: ((body: Record<string, unknown>) => unknown) | undefined;
  private seq = 0;

  constructor(
    readonly apiToken: string,
    readonly accountId: string,
    readonly zoneId: string,
    readonly zoneName: string,
    rateLimit: RateLimitSettings,
    checkSchema: boolean,
  ) {
    this.limiter = new FixedWindowLimiter(rateLimit);
    this.tunnelStore = new TunnelStore(accountId);
    this.dns = new DnsRecordStore(zoneName);
    this.checker = checkSchema ? ConformanceChecker.instance() : undefined;
    this.server = createServer((req, res) => {
      this.serve(req, res).catch((err: unknown) => {
        // A bug in the double itself: answer 500 rather than hang the client, and say why.
        console.error('cloudflare double: unhandled error', err);
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify(failureEnvelope([{ code: 10001, message: 'double internal error' }])));
      });
    });
  }

  async listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve());
    });
    const { port: actual } = this.server.address() as AddressInfo;
    this.baseURL = `http://127.0.0.1:${actual}${BASE_PATH}`;
    this.env = {
      CLOUDFLARE_BASE_URL: this.baseURL,
      CLOUDFLARE_API_TOKEN: this.apiToken,
      CLOUDFLARE_ACCOUNT_ID: this.accountId,
      CLOUDFLARE_ZONE_ID: this.zoneId,
    };
  }

  onRequest(hook: (req: RequestInfo) => void | Promise<void>): () => void {
    this.hooks.add(hook);
    return () => this.hooks.delete(hook);
  }

  attachConnector(tunnelId: string): string {
    return this.tunnelStore.attachConnector(tunnelId);
  }

  tunnels(): TunnelRecord[] {
    return this.tunnelStore.snapshot();
  }

  dnsRecords(): DnsRecordRecord[] {
    return this.dns.snapshot();
  }

  configurations(tunnelId: string): unknown {
    try {
      return this.tunnelStore.getConfiguration(tunnelId);
    } catch (err) {
      if (err instanceof ApiError) return undefined;
      throw err;
    }
  }

  takeViolations(): SchemaViolation[] {
    return this.violations.splice(0);
  }

  corruptNextResponse(mutate: (body: Record<string, unknown>) => unknown): void {
    this.corruption = mutate;
  }

  setRateLimit(l: RateLimitSettings): void {
    this.limiter.configure(l);
  }

  reset(): void {
    this.tunnelStore.reset();
    this.dns.reset();
    this.limiter.reset();
    this.faults.clear();
    this.requests.length = 0;
    this.seq = 0;
    this.corruption = undefined;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://double.invalid');
    const inBase = url.pathname === BASE_PATH || url.pathname.startsWith(`${BASE_PATH}/`);
    const path = inBase ? url.pathname.slice(BASE_PATH.length) || '/' : url.pathname;
    const query = url.searchParams;
    const seq = ++this.seq;
    for (const hook of [...this.hooks]) await hook({ method, path, mutating: method !== 'GET' && method !== 'HEAD', seq });

    const matched = inBase ? matchRoute(method, path) : undefined;
    const body = parseBody(raw);
    if (matched && this.checker) {
      const problems = body.ok
        ? this.checker.checkRequest(matched.route.operation, { pathParams: matched.params, query, body: body.value })
        : ['request body is not valid JSON'];
      this.record(matched.route.operation, method, path, 'request', undefined, problems);
    }

    const rate = this.limiter.hit();
    const fault = this.faults.take({ method, path, query: query.toString() });
    const log = (status: number): void => void this.requests.push({ method, path, query: query.toString(), status });
    if (fault?.kind === 'drop') {
      log(0);
      req.socket.destroy();
      return;
    }

    let outcome: Outcome;
    try {
      if (fault?.kind === 'status') {
        const status = fault.status ?? 500;
        throw new ApiError(status, fault.code ?? 10001, `Injected failure (HTTP ${status})`);
      }
      if (fault?.kind === 'rate-limit') throw rateLimited(fault.code ?? 971, fault.retryAfterSeconds ?? 1);
      if (!rate.allowed) throw rateLimited(971, rate.retryAfterSeconds);
      this.authenticate(req.headers.authorization);
      if (!matched) throw notFoundRoute();
      const { route, params } = matched;
      const owner = route.scope === 'account_id' ? this.accountId : this.zoneId;
      if (params[route.scope] !== owner) throw unroutableObject(path);
      if (!body.ok) throw new ApiError(400, 6007, 'Malformed JSON in request body');
      const input = { params, query, body: (body.value ?? {}) as Record<string, unknown> };
      const { result, resultInfo } = route.handle(input, { tunnels: this.tunnelStore, dns: this.dns });
      outcome = { drop: false, status: 200, body: successEnvelope(result, resultInfo), headers: rate.headers };
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      outcome = { drop: false, status: err.status, body: failureEnvelope([err.detail()]), headers: { ...rate.headers, ...err.headers } };
    }
    if (fault?.kind === 'commit-then-drop') outcome = { drop: true };

    if (outcome.drop) {
      log(0);
      req.socket.destroy();
      return;
    }
    const sent = this.corruption ? (this.corruption(outcome.body) as Record<string, unknown>) : outcome.body;
    this.corruption = undefined;
    if (this.checker) {
      this.record(matched?.route.operation, method, path, 'response', outcome.status, this.checker.checkResponse(matched?.route.operation, outcome.status, sent));
    }
    log(outcome.status);
    res.writeHead(outcome.status, { 'content-type': 'application/json', ...outcome.headers });
    res.end(JSON.stringify(sent));
  }

  private authenticate(header: string | undefined): void {
    if (header === undefined || !AUTH_HEADER.test(header)) {
      throw new ApiError(400, 6003, 'Invalid request headers', {
        error_chain: [{ code: 6111, message: 'Invalid format for Authorization header' }],
      });
    }
    if (header.slice('Bearer '.length) !== this.apiToken) throw new ApiError(401, 10000, 'Authentication error');
  }

  private record(op: OperationRef | undefined, method: string, path: string, direction: 'request' | 'response', status: number | undefined, problems: string[]): void {
    if (problems.length === 0) return;
    const operation = op && this.checker ? this.checker.operationName(op) : '(no route)';
    this.violations.push({ operation, method, path, direction, ...(status === undefined ? {} : { status }), problems });
  }
}

function rateLimited(code: number, retryAfterSeconds: number): ApiError {
  return new ApiError(429, code, 'Please wait and consider throttling your request speed', {}, { 'retry-after': String(retryAfterSeconds) });
}

function parseBody(raw: string): { ok: true; value: unknown } | { ok: false } {
  if (raw.length === 0) return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(raw) as unknown };
  } catch {
    return { ok: false };
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startCloudflareDouble(opts: CloudflareDoubleOptions = {}): Promise<CloudflareDouble> {
  const double = new DoubleServer(
    opts.apiToken ?? DEFAULTS.apiToken,
    opts.accountId ?? DEFAULTS.accountId,
    opts.zoneId ?? DEFAULTS.zoneId,
    (opts.zoneName ?? DEFAULTS.zoneName).toLowerCase(),
    opts.rateLimit ?? DEFAULT_RATE_LIMIT,
    opts.checkSchema ?? true,
  );
  await double.listen(opts.port ?? 0);
  startedDoubles().add(double);
  return double;
}
