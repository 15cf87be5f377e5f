/**
 * The tenant's proxied CNAME `<slug>.<APP_DOMAIN>` → `<tunnel-id>.cfargotunnel.com`. Ownership is
 * read from the record comment (env, org, slug); tags are not used because plans below
 * Enterprise may carry no record tags at all. A record at the host that carries no tenantform
 * comment is never touched: it belongs to someone else and makes the create fail loudly.
 */
import { dnsComment, hostname, parseDnsComment, tunnelTarget } from '../contract.js';
import { CloudError, ConfigError } from '../errors.js';
import { cloudflareCall, errorStatus } from './cloud.js';
import type { ActContext } from './context.js';
import type { TenantIdentity } from './tunnel.js';

export interface DnsRecordRef {
  id: string;
  name: string;
  type: string;
  content: string;
  proxied: boolean;
  comment: string | undefined;
  /** 1 is "automatic", what tenantform sets; undefined when the listing did not say. */
  ttl?: number;
}

/** Types a CNAME cannot coexist with at the same name. */
const CONFLICTING_TYPES = new Set(['A', 'AAAA', 'CNAME']);

export async function listRecordsAt(ctx: ActContext, host: string): Promise<DnsRecordRef[]> {
  const { client, zoneId } = ctx.cloudflare;
  return cloudflareCall(ctx, 'list DNS records', host, async () => {
    const found: DnsRecordRef[] = [];
    for await (const r of client.dns.records.list({ zone_id: zoneId, name: { exact: host }, per_page: 100 })) {
      if (!r.id || r.name.toLowerCase() !== host) continue;
      found.push({
        id: r.id,
        name: r.name,
        type: r.type,
        content: String((r as { content?: unknown }).content ?? ''),
        proxied: r.proxied === true,
        comment: r.comment ?? undefined,
        ...(typeof r.ttl === 'number' ? { ttl: r.ttl } : {}),
      });
    }
    return found;
  });
}

function ownedBy(ctx: ActContext, r: DnsRecordRef): { orgId: string; slug: string } | undefined {
  return parseDnsComment(ctx.wiring.environment, r.comment);
}

export async function findTenantCnames(ctx: ActContext, tenant: TenantIdentity): Promise<DnsRecordRef[]> {
  const host = hostname(tenant.slug, ctx.wiring.appDomain);
  const records = await listRecordsAt(ctx, host);
  return records.filter((r) => r.type === 'CNAME' && ownedBy(ctx, r)?.orgId === tenant.orgId);
}

/** Records at the tenant's host left by another org of this environment (a purged org's slug). */
export async function findStaleSlugRecords(ctx: ActContext, tenant: TenantIdentity): Promise<DnsRecordRef[]> {
  const host = hostname(tenant.slug, ctx.wiring.appDomain);
  const records = await listRecordsAt(ctx, host);
  return records.filter((r) => {
    const owner = ownedBy(ctx, r);
    return owner !== undefined && owner.orgId !== tenant.orgId;
  });
}

export interface EnsuredRecord extends DnsRecordRef {
  created: boolean;
}

export async function ensureCname(ctx: ActContext, tenant: TenantIdentity, tunnelId: string): Promise<EnsuredRecord> {
  const env = ctx.wiring.environment;
  const host = hostname(tenant.slug, ctx.wiring.appDomain);
  const target = tunnelTarget(tunnelId);
  const comment = dnsComment(env, tenant.orgId, tenant.slug);
  const { client, zoneId } = ctx.cloudflare;
  const body = { zone_id: zoneId, type: 'CNAME' as const, name: host, content: target, ttl: 1 as const, proxied: true, comment };

  const records = await listRecordsAt(ctx, host);
  const ours = records.filter((r) => r.type === 'CNAME' && ownedBy(ctx, r)?.orgId === tenant.orgId);
  const blocking = records.filter((r) => CONFLICTING_TYPES.has(r.type) && !ours.includes(r));
  if (blocking.length > 0) {
    const who = blocking.map((r) => (ownedBy(ctx, r) ? `org ${ownedBy(ctx, r)!.orgId}` : 'a record tenantform does not manage'));
    throw new CloudError(`${host} is already taken by ${who.join(', ')} (${blocking.map((r) => `${r.type} ${r.id}`).join(', ')})`, {
      operation: 'create DNS record',
      resource: host,
    });
  }

  const [keep, ...duplicates] = ours;
  for (const dup of duplicates) await deleteRecord(ctx, dup, tenant.orgId);
  if (keep) {
    if (keep.content.toLowerCase() === target && keep.proxied && keep.comment === comment && (keep.ttl === undefined || keep.ttl === 1)) {
      ctx.audit({ kind: 'dnsRecord', resourceId: keep.id, orgId: tenant.orgId, state: 'adopted', details: { name: host, content: target } });
      return { ...keep, created: false };
    }
    // Points at an old tunnel (a rolled-back or replaced one), lost its proxying or its automatic TTL: repoint it.
    await cloudflareCall(ctx, 'update DNS record', host, () => client.dns.records.update(keep.id, body));
    ctx.audit({ kind: 'dnsRecord', resourceId: keep.id, orgId: tenant.orgId, state: 'updated', details: { name: host, content: target, was: keep.content } });
    return { ...keep, content: target, proxied: true, comment, created: false };
  }

  try {
    const made = await cloudflareCall(ctx, 'create DNS record', host, () => client.dns.records.create(body));
    if (made.name.toLowerCase() !== host) {
      // Cloudflare appends the zone to a name outside it: the app domain is not in this zone. Left
      // alone, every plan would see a record at the wrong name and try to move it forever.
      await deleteRecord(ctx, made, tenant.orgId);
      throw new ConfigError(`Cloudflare stored the record as ${made.name}: APP_DOMAIN ${ctx.wiring.appDomain} is not inside the zone CLOUDFLARE_ZONE_ID names`, {
        operation: 'create DNS record',
        resource: host,
      });
    }
    ctx.audit({ kind: 'dnsRecord', resourceId: made.id, orgId: tenant.orgId, state: 'created', details: { name: host, content: target } });
    return { id: made.id, name: host, type: 'CNAME', content: target, proxied: true, comment, created: true };
  } catch (e) {
    // Lost response after commit: the SDK's retry then gets 81053/81054/81057/81058. Adopt ours;
    // this run's create made it, so it is recorded as created.
    const landed = (await listRecordsAt(ctx, host)).find((r) => r.type === 'CNAME' && r.comment === comment && r.content.toLowerCase() === target);
    if (!landed) throw e;
    ctx.audit({ kind: 'dnsRecord', resourceId: landed.id, orgId: tenant.orgId, state: 'created', details: { name: host, afterLostCreate: true } });
    return { ...landed, created: true };
  }
}

/** Only the id is needed to delete; the name is for messages and the audit row. */
export async function deleteRecord(ctx: ActContext, record: Pick<DnsRecordRef, 'id' | 'name'>, orgId: string): Promise<void> {
  const { client, zoneId } = ctx.cloudflare;
  try {
    await cloudflareCall(ctx, 'delete DNS record', `${record.name} (${record.id})`, () => client.dns.records.delete(record.id, { zone_id: zoneId }));
  } catch (e) {
    if (errorStatus(e) !== 404) throw e;
  }
  ctx.audit({ kind: 'dnsRecord', resourceId: record.id, orgId, state: 'deleted', details: { name: record.name } });
}
