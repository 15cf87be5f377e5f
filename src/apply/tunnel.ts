/**
 * Cloudflare Tunnels. Tunnels carry no tags, so the deterministic name
 * `tenantform.<env>.<slug>.<orgId>` is the identity: find by name before creating, and treat
 * "already exists" after a lost response as "adopt the one we made".
 */
import type { CloudflareTunnel } from 'cloudflare/resources/shared.js';
import { parseTunnelName, tunnelEnvPrefix, tunnelName, tunnelSlugPrefix } from '../contract.js';
import { cloudflareCall, errorStatus, hasCode } from './cloud.js';
import type { ActContext } from './context.js';

export interface TunnelRef {
  id: string;
  name: string;
}

export interface TenantIdentity {
  orgId: string;
  slug: string;
}

const PER_PAGE = 1000;

/** Live (not deleted) tunnels of this environment whose name starts with `prefix`. */
async function listByPrefix(ctx: ActContext, prefix: string, resource: string): Promise<TunnelRef[]> {
  const { client, accountId } = ctx.cloudflare;
  return cloudflareCall(ctx, 'list tunnels', resource, async () => {
    const found: TunnelRef[] = [];
    // Always send is_deleted=false: the default changed in 2025 and deleted tunnels keep their names.
    for await (const t of client.zeroTrust.tunnels.cloudflared.list({
      account_id: accountId,
      include_prefix: prefix,
      is_deleted: false,
      per_page: PER_PAGE,
    })) {
      // Filter again client-side: the prefix filter's exact semantics are not documented.
      if (t.id && t.name?.startsWith(prefix) && !t.deleted_at) found.push({ id: t.id, name: t.name });
    }
    return found;
  });
}

export async function findTunnel(ctx: ActContext, tenant: TenantIdentity): Promise<TunnelRef | undefined> {
  const name = tunnelName(ctx.wiring.environment, tenant.slug, tenant.orgId);
  const all = await listByPrefix(ctx, name, `tunnel ${name}`);
  return all.find((t) => t.name === name);
}

/** Every live tunnel of an org in this environment, whatever slug it was made under. */
export async function findOrgTunnels(ctx: ActContext, orgId: string): Promise<TunnelRef[]> {
  const env = ctx.wiring.environment;
  const all = await listByPrefix(ctx, tunnelEnvPrefix(env), `tunnels of org ${orgId}`);
  return all.filter((t) => parseTunnelName(env, t.name)?.orgId === orgId);
}

/** Tunnels made for the same slug by another (purged) org. */
export async function findStaleSlugTunnels(ctx: ActContext, tenant: TenantIdentity): Promise<TunnelRef[]> {
  const env = ctx.wiring.environment;
  const all = await listByPrefix(ctx, tunnelSlugPrefix(env, tenant.slug), `tunnels of slug ${tenant.slug}`);
  return all.filter((t) => {
    const owner = parseTunnelName(env, t.name);
    return owner !== undefined && owner.slug === tenant.slug && owner.orgId !== tenant.orgId;
  });
}

export interface EnsuredTunnel extends TunnelRef {
  created: boolean;
}

export async function ensureTunnel(ctx: ActContext, tenant: TenantIdentity): Promise<EnsuredTunnel> {
  const existing = await findTunnel(ctx, tenant);
  if (existing) {
    ctx.audit({ kind: 'tunnel', resourceId: existing.id, orgId: tenant.orgId, state: 'adopted', details: { name: existing.name } });
    return { ...existing, created: false };
  }
  const name = tunnelName(ctx.wiring.environment, tenant.slug, tenant.orgId);
  const { client, accountId } = ctx.cloudflare;
  let made: CloudflareTunnel;
  try {
    made = await cloudflareCall(ctx, 'create tunnel', `tunnel ${name}`, () =>
      client.zeroTrust.tunnels.cloudflared.create({ account_id: accountId, name, config_src: 'cloudflare' }),
    );
  } catch (e) {
    // A create whose response was lost may have committed (and the SDK's retry then sees 409/1013):
    // if the name now exists it is ours, so adopt it instead of failing or duplicating. It is this
    // run's own create that landed (find-before-create saw none, under the lease), so: created.
    const landed = await findTunnel(ctx, tenant);
    if (!landed) throw e;
    ctx.audit({ kind: 'tunnel', resourceId: landed.id, orgId: tenant.orgId, state: 'created', details: { name, afterLostCreate: true } });
    return { ...landed, created: true };
  }
  ctx.audit({ kind: 'tunnel', resourceId: made.id!, orgId: tenant.orgId, state: 'created', details: { name } });
  return { id: made.id!, name, created: true };
}

/** The connector token; a secret, registered with the redactor before it goes anywhere. */
export async function getTunnelToken(ctx: ActContext, tunnelId: string): Promise<string> {
  const { client, accountId } = ctx.cloudflare;
  const token = await cloudflareCall(ctx, 'get tunnel token', `tunnel ${tunnelId}`, () =>
    client.zeroTrust.tunnels.cloudflared.token.get(tunnelId, { account_id: accountId }),
  );
  ctx.redactor.register(token);
  return token;
}

/** Clean up connectors, then delete. A tunnel already gone counts as deleted. */
export async function deleteTunnel(ctx: ActContext, tunnel: TunnelRef, orgId: string): Promise<void> {
  const { client, accountId } = ctx.cloudflare;
  const resource = `tunnel ${tunnel.name} (${tunnel.id})`;
  try {
    await cloudflareCall(ctx, 'clean tunnel connections', resource, () => client.zeroTrust.tunnels.cloudflared.connections.delete(tunnel.id, { account_id: accountId }));
    await cloudflareCall(ctx, 'delete tunnel', resource, () => client.zeroTrust.tunnels.cloudflared.delete(tunnel.id, { account_id: accountId }));
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  ctx.audit({ kind: 'tunnel', resourceId: tunnel.id, orgId, state: 'deleted', details: { name: tunnel.name } });
}

function isNotFound(e: unknown): boolean {
  return errorStatus(e) === 404 || hasCode(e, 'NotFoundError');
}
