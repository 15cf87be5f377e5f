/**
 * serve's HTTP side on node:http: `/healthz` (open, for probes), `/metrics` (Prometheus text)
 * and every other path handed to the web view when there is one, else 404. With a token, every
 * path but /healthz needs `Authorization: Bearer <token>` (401 otherwise); the token is compared
 * in constant time and never written anywhere.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError, InputError } from '../errors.js';

export interface HealthCheck {
  ok: boolean;
  message?: string;
}
export interface Health {
  ok: boolean;
  checks: { fetch: HealthCheck & { commit?: string; at?: string }; store: HealthCheck; schedules: HealthCheck };
}

export type WebHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

export interface HttpDeps {
  health: () => Promise<Health>;
  metrics: () => Promise<{ contentType: string; body: string }>;
  token?: string | undefined;
  web?: WebHandler | undefined;
  /** Told of a handler's failure (already answered 500); the caller redacts and logs it. */
  onError?: (error: unknown) => void;
}

export function createServeServer(deps: HttpDeps): Server {
  const expected = deps.token ? digest(deps.token) : undefined;
  return createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      deps.onError?.(e);
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'internal error\n');
      else res.end();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://serve').pathname;
    if (path === '/healthz') {
      const health = await deps.health();
      send(res, health.ok ? 200 : 503, 'application/json', `${JSON.stringify(health)}\n`);
      return;
    }
    if (expected && !authorised(req, expected)) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="tenantform"');
      send(res, 401, 'text/plain; charset=utf-8', 'a bearer token is required\n');
      return;
    }
    if (path === '/metrics') {
      const { contentType, body } = await deps.metrics();
      send(res, 200, contentType, body);
      return;
    }
    if (deps.web && (await deps.web(req, res))) return;
    send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

function authorised(req: IncomingMessage, expected: Buffer): boolean {
  const header = req.headers.authorization ?? '';
  const match = /^Bearer\s+(.+)$/i.exec(header);
  return match !== null && timingSafeEqual(digest(match[1]!.trim()), expected);
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
  res.end(body);
}

/** `HOST:PORT` (`[::1]:9464` for IPv6); port 0 picks a free one. */
export function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new InputError(`expected HOST:PORT, got "${value}"`, { operation: 'read command line', resource: '--listen' });
  return { host: (m[1] ?? m[2])!, port };
}

export async function listen(server: Server, at: { host: string; port: number }): Promise<AddressInfo> {
  await new Promise<void>((resolve, reject) => {
    const onError = (e: unknown) => reject(new ConfigError(`cannot listen on ${at.host}:${at.port}`, { operation: 'serve', resource: '--listen', cause: e }));
    server.once('error', onError);
    server.listen(at.port, at.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  return server.address() as AddressInfo;
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
