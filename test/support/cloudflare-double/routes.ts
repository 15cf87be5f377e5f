/**
 * The route table: each entry is one schema operation (its `paths` template and method) and the
 * state change it makes. Handlers return the `result` (and `result_info` for lists) or throw ApiError.
 */
import { ApiError, type ResultInfo } from './api-error.js';
import { BATCH_OPERATION, type OperationRef } from './conformance.js';
import type { BatchBody, DnsRecordStore } from './dns-records.js';
import type { TunnelStore } from './tunnels.js';

export interface RouteInput {
  params: Record<string, string>;
  query: URLSearchParams;
  body: Record<string, unknown>;
}

export interface RouteState {
  tunnels: TunnelStore;
  dns: DnsRecordStore;
}

export interface RouteOutput {
  result: unknown;
  resultInfo?: ResultInfo;
}

export interface Route {
  operation: OperationRef;
  /** Which path parameter names the account or zone the route is scoped to. */
  scope: 'account_id' | 'zone_id';
  pattern: RegExp;
  paramNames: string[];
  handle(input: RouteInput, state: RouteState): RouteOutput;
}

const TUNNELS = '/accounts/{account_id}/cfd_tunnel';
const TUNNEL = `${TUNNELS}/{tunnel_id}`;
const RECORDS = '/zones/{zone_id}/dns_records';
const RECORD = `${RECORDS}/{dns_record_id}`;

const one = (result: unknown): RouteOutput => ({ result });
const page = ({ page: items, info }: { page: unknown[]; info: ResultInfo }): RouteOutput => ({ result: items, resultInfo: info });
const p = (input: RouteInput, name: string): string => input.params[name]!;

function route(method: string, template: string, handle: Route['handle'], operation?: OperationRef): Route {
  const paramNames = [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
  const pattern = new RegExp(`^${template.replace(/\{\w+\}/g, '([^/]+)')}$`);
  const scope = paramNames.includes('account_id') ? 'account_id' : 'zone_id';
  return { operation: operation ?? { method, template }, scope, pattern, paramNames, handle };
}

function batchBody(body: Record<string, unknown>): BatchBody {
  for (const key of ['deletes', 'patches', 'puts', 'posts']) {
    if (body[key] !== undefined && !Array.isArray(body[key])) throw new ApiError(400, 1004, `DNS Validation Error: ${key} must be an array`);
  }
  return body as BatchBody;
}

export const ROUTES: Route[] = [
  route('GET', TUNNELS, (i, s) => page(s.tunnels.list(i.query))),
  route('POST', TUNNELS, (i, s) => one(s.tunnels.create(i.body))),
  route('GET', TUNNEL, (i, s) => one(s.tunnels.get(p(i, 'tunnel_id')))),
  route('PATCH', TUNNEL, (i, s) => one(s.tunnels.edit(p(i, 'tunnel_id'), i.body))),
  route('DELETE', TUNNEL, (i, s) => one(s.tunnels.delete(p(i, 'tunnel_id'), i.query.get('cascade') === 'true'))),
  route('GET', `${TUNNEL}/token`, (i, s) => one(s.tunnels.token(p(i, 'tunnel_id')))),
  route('GET', `${TUNNEL}/configurations`, (i, s) => one(s.tunnels.getConfiguration(p(i, 'tunnel_id')))),
  route('PUT', `${TUNNEL}/configurations`, (i, s) => one(s.tunnels.putConfiguration(p(i, 'tunnel_id'), i.body))),
  route('GET', `${TUNNEL}/connections`, (i, s) => one(s.tunnels.connections(p(i, 'tunnel_id')))),
  route('DELETE', `${TUNNEL}/connections`, (i, s) => one(s.tunnels.deleteConnections(p(i, 'tunnel_id'), i.query.get('client_id') ?? undefined))),
  route('GET', RECORDS, (i, s) => page(s.dns.list(i.query))),
  route('POST', RECORDS, (i, s) => one(s.dns.create(i.body))),
  route('POST', BATCH_OPERATION.template, (i, s) => one(s.dns.batch(batchBody(i.body))), BATCH_OPERATION),
  route('GET', RECORD, (i, s) => one(s.dns.get(p(i, 'dns_record_id')))),
  route('PATCH', RECORD, (i, s) => one(s.dns.change(p(i, 'dns_record_id'), i.body, 'patch'))),
  route('PUT', RECORD, (i, s) => one(s.dns.change(p(i, 'dns_record_id'), i.body, 'put'))),
  route('DELETE', RECORD, (i, s) => one(s.dns.delete(p(i, 'dns_record_id')))),
];

export function matchRoute(method: string, path: string): { route: Route; params: Record<string, string> } | undefined {
  for (const r of ROUTES) {
    if (r.operation.method !== method) continue;
    const m = r.pattern.exec(path);
    if (!m) continue;
    const params = Object.fromEntries(r.paramNames.map((name, i) => [name, decodeURIComponent(m[i + 1]!)]));
    return { route: r, params };
  }
  return undefined;
}
