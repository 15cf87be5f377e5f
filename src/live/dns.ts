/**
 * Cloudflare DNS observer: records whose comment starts with this environment's prefix (the
 * comment carries env, org and slug). A full plan lists the zone once with a large page; a scoped
 * plan asks for each tenant's hostname exactly.
 */
import type { RecordResponse } from 'cloudflare/resources/dns/records';
import { dnsCommentEnvPrefix, hostname } from '../contract.js';
import { CloudError, ConfigError, describeCause } from '../errors.js';
import { fetchAllPages } from './cloudflare-pages.js';
import type { LiveDnsRecord } from './model.js';
import type { CloudflareReader } from './readers.js';

/** Large pages keep a 10,000-tenant zone to a few requests (the API allows far more than 5,000). */
const PAGE_SIZE = 5000;

export interface DnsScope {
  environment: string;
  /** Scoped plan: the tenants' slugs and the app domain their hostnames live under. */
  slugs?: readonly string[];
  appDomain?: string;
}

export async function observeDnsRecords(reader: CloudflareReader, scope: DnsScope): Promise<RecordResponse[]> {
  const prefix = dnsCommentEnvPrefix(scope.environment);
  const queries: Array<{ name?: string }> = scope.slugs === undefined ? [{}] : scope.slugs.map((slug) => ({ name: hostname(slug, requireAppDomain(scope)) }));
  const out: RecordResponse[] = [];
  for (const q of queries) {
    try {
      const found = await fetchAllPages((page) =>
        reader.listDnsRecords({
          comment: { startswith: prefix },
          ...(q.name === undefined ? {} : { name: { exact: q.name } }),
          per_page: PAGE_SIZE,
          page,
        }),
      );
      out.push(...found.filter((r) => r.comment?.startsWith(prefix)));
    } catch (err) {
      const what = q.name ?? `comment ${prefix}*`;
      // Every plan and apply reads the zone here first, so this is where a wrong zone id shows.
      const status = (err as { status?: unknown }).status;
      const hint =
        typeof status === 'number' && status >= 400 && status < 500 && status !== 429 ? 'CLOUDFLARE_ZONE_ID is not a zone this API token can read DNS records of: ' : '';
      throw new CloudError(`${hint}${describeCause(err)}`, { operation: 'list DNS records', resource: `Cloudflare DNS ${what}`, cause: err });
    }
  }
  return out;
}

function requireAppDomain(scope: DnsScope): string {
  if (!scope.appDomain) throw new ConfigError('a scoped DNS lookup needs the app domain (fleet.yaml appDomain)', { operation: 'list DNS records' });
  return scope.appDomain;
}

export function toLiveDnsRecord(r: RecordResponse): LiveDnsRecord {
  return {
    id: r.id,
    name: r.name,
    type: r.type,
    content: r.content ?? '',
    proxied: r.proxied ?? false,
    comment: r.comment ?? undefined,
    tags: r.tags ?? [],
  };
}
