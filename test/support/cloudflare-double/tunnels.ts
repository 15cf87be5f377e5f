/**
 * Account-scoped `cfd_tunnel` state: tunnels (soft-deleted, never forgotten), their connectors and
 * their remote configuration. Behaviour follows notes/cloudflare.md §3 "Tunnels".
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { ApiError, paginate, type ResultInfo } from './api-error.js';

export interface ConnectorRecord {
  clientId: string;
  connectionId: string;
  openedAt: string;
}

export interface TunnelConfigRecord {
  version: number;
  config: unknown;
  createdAt: string;
}

export interface TunnelRecord {
  id: string;
  name: string;
  accountTag: string;
  configSrc: 'local' | 'cloudflare';
  createdAt: string;
  deletedAt: string | null;
  connsActiveAt: string | null;
  connsInactiveAt: string;
  /** Base64 secret: part of the token, never logged. */
  secret: string;
  connectors: ConnectorRecord[];
  configuration: TunnelConfigRecord | null;
}

const LIST_PER_PAGE = { perPage: 20, maxPerPage: 1000 };

export class TunnelStore {
  private tunnels = new Map<string, TunnelRecord>();

  constructor(private readonly accountId: string) {}

  reset(): void {
    this.tunnels.clear();
  }

  snapshot(): TunnelRecord[] {
    return structuredClone([...this.tunnels.values()]);
  }

  create(body: Record<string, unknown>): Record<string, unknown> {
    const name = typeof body.name === 'string' ? body.name : '';
    if (name.trim() === '') throw new ApiError(400, 1001, 'Tunnel name is required');
    this.assertNameFree(name);
    const configSrc = body.config_src === 'cloudflare' ? 'cloudflare' : 'local';
    const secret = typeof body.tunnel_secret === 'string' ? body.tunnel_secret : randomBytes(32).toString('base64');
    const now = new Date().toISOString();
    const tunnel: TunnelRecord = {
      id: randomUUID(),
      name,
      accountTag: this.accountId,
      configSrc,
      createdAt: now,
      deletedAt: null,
      connsActiveAt: null,
      connsInactiveAt: now,
      secret,
      connectors: [],
      configuration: null,
    };
    this.tunnels.set(tunnel.id, tunnel);
    return {
      ...this.view(tunnel),
      config_src: configSrc,
      credentials_file: { AccountTag: this.accountId, TunnelID: tunnel.id, TunnelName: name, TunnelSecret: secret },
      token: this.tokenOf(tunnel),
    };
  }

  list(query: URLSearchParams): { page: Record<string, unknown>[]; info: ResultInfo } {
    const matches = [...this.tunnels.values()].filter(tunnelFilter(query)).map((t) => this.view(t));
    return paginate(matches, query, LIST_PER_PAGE);
  }

  get(id: string): Record<string, unknown> {
    return this.view(this.find(id));
  }

  edit(id: string, body: Record<string, unknown>): Record<string, unknown> {
    const tunnel = this.findLive(id);
    if (typeof body.name === 'string' && body.name !== tunnel.name) {
      if (body.name.trim() === '') throw new ApiError(400, 1001, 'Tunnel name is required');
      this.assertNameFree(body.name);
      tunnel.name = body.name;
    }
    if (typeof body.tunnel_secret === 'string') tunnel.secret = body.tunnel_secret;
    return this.view(tunnel);
  }

  delete(id: string, cascade: boolean): Record<string, unknown> {
    const tunnel = this.findLive(id);
    if (tunnel.connectors.length > 0) {
      if (!cascade) throw new ApiError(400, 1022, 'Cannot delete tunnel because it has active connections');
      this.dropConnectors(tunnel, undefined);
    }
    tunnel.deletedAt = new Date().toISOString();
    return this.view(tunnel);
  }

  token(id: string): string {
    return this.tokenOf(this.findLive(id));
  }

  getConfiguration(id: string): Record<string, unknown> {
    const tunnel = this.findLive(id);
    const stored = tunnel.configuration;
    return {
      tunnel_id: tunnel.id,
      version: stored?.version ?? 0,
      config: stored ? structuredClone(stored.config) : null,
      source: 'cloudflare',
      created_at: stored?.createdAt ?? tunnel.createdAt,
    };
  }

  putConfiguration(id: string, body: Record<string, unknown>): Record<string, unknown> {
    const tunnel = this.findLive(id);
    const config = (body.config ?? {}) as { ingress?: Array<{ hostname?: string; path?: string }> };
    const ingress = config.ingress ?? [];
    const last = ingress[ingress.length - 1];
    if (last && !isCatchAll(last)) {
      throw new ApiError(
        400,
        1056,
        'Bad Configuration: Validation failed: The last ingress rule must match all URLs (i.e. it should not have a hostname or path filter)',
      );
    }
    tunnel.configuration = {
      version: (tunnel.configuration?.version ?? 0) + 1,
      config: structuredClone(config),
      createdAt: new Date().toISOString(),
    };
    return this.getConfiguration(id);
  }

  connections(id: string): Record<string, unknown>[] {
    const tunnel = this.find(id);
    return tunnel.connectors.map((c) => ({
      id: c.clientId,
      arch: 'linux_amd64',
      config_version: tunnel.configuration?.version ?? 0,
      conns: [
        {
          id: c.connectionId,
          uuid: c.connectionId,
          client_id: c.clientId,
          client_version: '2025.11.1',
          colo_name: 'DFW',
          is_pending_reconnect: false,
          opened_at: c.openedAt,
          origin_ip: '198.51.100.7',
        },
      ],
      features: ['ha-origin'],
      run_at: c.openedAt,
      version: '2025.11.1',
    }));
  }

  deleteConnections(id: string, clientId: string | undefined): Record<string, unknown> {
    this.dropConnectors(this.findLive(id), clientId);
    return {};
  }

  /** Test hook: a cloudflared process connecting to the tunnel. */
  attachConnector(id: string): string {
    const tunnel = this.findLive(id);
    const now = new Date().toISOString();
    const connector: ConnectorRecord = { clientId: randomUUID(), connectionId: randomUUID(), openedAt: now };
    tunnel.connectors.push(connector);
    tunnel.connsActiveAt ??= now;
    return connector.clientId;
  }

  private dropConnectors(tunnel: TunnelRecord, clientId: string | undefined): void {
    const before = tunnel.connectors.length;
    tunnel.connectors = clientId === undefined ? [] : tunnel.connectors.filter((c) => c.clientId !== clientId);
    if (before > 0 && tunnel.connectors.length === 0) tunnel.connsInactiveAt = new Date().toISOString();
  }

  private assertNameFree(name: string): void {
    for (const t of this.tunnels.values()) {
      if (t.deletedAt === null && t.name === name) {
        throw new ApiError(409, 1013, 'You already have a tunnel with this name. Please choose a different name.');
      }
    }
  }

  private find(id: string): TunnelRecord {
    const tunnel = this.tunnels.get(id);
    if (!tunnel) throw new ApiError(404, 1003, 'Tunnel not found');
    return tunnel;
  }

  private findLive(id: string): TunnelRecord {
    const tunnel = this.find(id);
    if (tunnel.deletedAt !== null) throw new ApiError(404, 1003, 'Tunnel not found');
    return tunnel;
  }

  private tokenOf(tunnel: TunnelRecord): string {
    return Buffer.from(JSON.stringify({ a: tunnel.accountTag, t: tunnel.id, s: tunnel.secret })).toString('base64');
  }

  private view(t: TunnelRecord): Record<string, unknown> {
    return {
      id: t.id,
      account_tag: t.accountTag,
      created_at: t.createdAt,
      deleted_at: t.deletedAt,
      name: t.name,
      // Deprecated on the tunnel object ("will start returning an empty array"): use connections.get.
      connections: [],
      conns_active_at: t.connsActiveAt,
      conns_inactive_at: t.connsInactiveAt,
      tun_type: 'cfd_tunnel',
      metadata: {},
      status: statusOf(t),
      remote_config: t.configSrc === 'cloudflare',
      config_src: t.configSrc,
    };
  }
}

function statusOf(t: TunnelRecord): 'inactive' | 'healthy' | 'down' {
  if (t.connectors.length > 0) return 'healthy';
  return t.connsActiveAt === null ? 'inactive' : 'down';
}

function isCatchAll(rule: { hostname?: string; path?: string }): boolean {
  const hostname = rule.hostname ?? '';
  return (hostname === '' || hostname === '*') && (rule.path ?? '') === '';
}

/** The list filters; deleted tunnels are hidden unless `is_deleted` asks for them (the 2025-12-01 default). */
function tunnelFilter(query: URLSearchParams): (t: TunnelRecord) => boolean {
  const name = query.get('name');
  const include = query.get('include_prefix');
  const exclude = query.get('exclude_prefix');
  const uuid = query.get('uuid');
  const status = query.get('status');
  const isDeleted = query.get('is_deleted');
  const existedAt = query.get('existed_at');
  return (t) => {
    const deleted = t.deletedAt !== null;
    if (isDeleted === 'true' ? !deleted : deleted) return false;
    if (name !== null && t.name !== name) return false;
    if (include !== null && !t.name.startsWith(include)) return false;
    if (exclude !== null && t.name.startsWith(exclude)) return false;
    if (uuid !== null && t.id !== uuid) return false;
    if (status !== null && statusOf(t) !== status) return false;
    if (existedAt !== null) {
      const at = Date.parse(existedAt);
      if (Date.parse(t.createdAt) > at || (t.deletedAt !== null && Date.parse(t.deletedAt) <= at)) return false;
    }
    return true;
  };
}
