/**
 * Zone-scoped DNS record state: validation, the conflict codes 81053/81054/81057/81058, the list
 * filters, and the batch endpoint's all-or-nothing transaction.
 */
import { randomBytes } from 'node:crypto';
import { ApiError, paginate, type ResultInfo } from './api-error.js';
import { RECORD_TYPES } from './batch-schema.js';
import { dnsRecordFilter, orderDnsRecords, type StoredDnsRecord } from './dns-filters.js';

export type { StoredDnsRecord } from './dns-filters.js';

const LIST_PER_PAGE = { perPage: 100, maxPerPage: 5_000_000 };
const PROXIABLE_TYPES = new Set(['A', 'AAAA', 'CNAME']);
const ADDRESS_TYPES = new Set(['A', 'AAAA', 'CNAME']);
const KNOWN_TYPES = new Set(RECORD_TYPES);
const TAG_PATTERN = /^[A-Za-z0-9_-]+:[^\r\n]*$/;

const validationError = (message: string): ApiError => new ApiError(400, 1004, `DNS Validation Error: ${message}`);
const recordNotFound = (): ApiError => new ApiError(404, 81044, 'Record does not exist.');

type Body = Record<string, unknown>;

export interface BatchBody {
  deletes?: Array<{ id?: unknown }>;
  patches?: Body[];
  puts?: Body[];
  posts?: Body[];
}

export class DnsRecordStore {
  private records = new Map<string, StoredDnsRecord>();

  constructor(private readonly zoneName: string) {}

  reset(): void {
    this.records.clear();
  }

  snapshot(): StoredDnsRecord[] {
    return structuredClone([...this.records.values()]);
  }

  list(query: URLSearchParams): { page: StoredDnsRecord[]; info: ResultInfo } {
    const matches = orderDnsRecords([...this.records.values()].filter(dnsRecordFilter(query)), query);
    return paginate(structuredClone(matches), query, LIST_PER_PAGE);
  }

  get(id: string): StoredDnsRecord {
    return structuredClone(this.find(id));
  }

  create(body: Body): StoredDnsRecord {
    const now = new Date().toISOString();
    const fields = this.normalise(body, undefined);
    const record: StoredDnsRecord = {
      id: randomBytes(16).toString('hex'),
      ...fields,
      settings: {},
      meta: {},
      created_on: now,
      modified_on: now,
    };
    stampAttributeTimes(record, undefined, now);
    this.assertNoConflict(record);
    this.records.set(record.id, record);
    return structuredClone(record);
  }

  /** PATCH merges the given fields; PUT replaces the record (absent comment and tags are cleared). */
  change(id: string, body: Body, mode: 'patch' | 'put'): StoredDnsRecord {
    const existing = this.find(id);
    const now = new Date().toISOString();
    const fields = this.normalise(body, mode === 'patch' ? existing : undefined);
    const next: StoredDnsRecord = { ...existing, ...fields, modified_on: now };
    if (fields.comment === undefined) delete next.comment;
    stampAttributeTimes(next, existing, now);
    this.assertNoConflict(next);
    this.records.set(id, next);
    return structuredClone(next);
  }

  delete(id: string): { id: string } {
    this.find(id);
    this.records.delete(id);
    return { id };
  }

  /** deletes → patches → puts → posts against a copy; the copy replaces the state only if every step passed. */
  batch(body: BatchBody): Record<string, StoredDnsRecord[]> {
    const working = new DnsRecordStore(this.zoneName);
    working.records = structuredClone(this.records);
    const deletes = (body.deletes ?? []).map((d) => {
      const id = typeof d.id === 'string' ? d.id : '';
      const record = working.get(id);
      working.delete(id);
      return record;
    });
    const patches = (body.patches ?? []).map((p) => working.change(idOf(p), withoutId(p), 'patch'));
    const puts = (body.puts ?? []).map((p) => working.change(idOf(p), withoutId(p), 'put'));
    const posts = (body.posts ?? []).map((p) => working.create(p));
    this.records = working.records;
    return { deletes, patches, puts, posts };
  }

  private find(id: string): StoredDnsRecord {
    const record = this.records.get(id);
    if (!record) throw recordNotFound();
    return record;
  }

  private normalise(body: Body, base: StoredDnsRecord | undefined): Omit<StoredDnsRecord, 'id' | 'settings' | 'meta' | 'created_on' | 'modified_on'> {
    const pick = <K extends keyof StoredDnsRecord>(key: K): unknown => (key in body ? body[key] : base?.[key]);
    const type = pick('type');
    if (typeof type !== 'string' || !KNOWN_TYPES.has(type)) throw validationError('type must be a DNS record type');
    const name = pick('name');
    if (typeof name !== 'string' || name.trim() === '') throw validationError('name is required');
    const content = pick('content');
    if (typeof content !== 'string' || content === '') throw validationError('content is required');
    const ttl = pick('ttl') ?? 1;
    if (typeof ttl !== 'number' || !(ttl === 1 || (ttl >= 30 && ttl <= 86_400))) {
      throw validationError('ttl must be 1 (automatic) or between 30 and 86400');
    }
    const proxied = pick('proxied') ?? false;
    if (typeof proxied !== 'boolean') throw validationError('proxied must be a boolean');
    const proxiable = PROXIABLE_TYPES.has(type);
    if (proxied && !proxiable) throw new ApiError(400, 9004, 'This record type cannot be proxied.');
    const comment = pick('comment');
    if (comment !== undefined && comment !== null && (typeof comment !== 'string' || /[\r\n]/.test(comment))) {
      throw validationError('comment must be a single line of text');
    }
    const tags = pick('tags') ?? [];
    if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string' && TAG_PATTERN.test(t))) {
      throw validationError('tags must be name:value with a name of letters, digits, _ or -');
    }
    return {
      type,
      name: this.fqdn(name),
      content,
      proxied,
      proxiable,
      ttl,
      ...(typeof comment === 'string' && comment !== '' ? { comment } : {}),
      tags: [...tags] as string[],
    };
  }

  /** Names are stored as lower-case FQDNs; `@` and relative names are expanded into the zone. */
  private fqdn(name: string): string {
    const n = name.toLowerCase().replace(/\.$/, '');
    if (n === '@') return this.zoneName;
    return n === this.zoneName || n.endsWith(`.${this.zoneName}`) ? n : `${n}.${this.zoneName}`;
  }

  private assertNoConflict(candidate: StoredDnsRecord): void {
    for (const other of this.records.values()) {
      if (other.id === candidate.id || other.name !== candidate.name) continue;
      if (other.type === candidate.type && other.content.toLowerCase() === candidate.content.toLowerCase()) {
        const identical = other.ttl === candidate.ttl && other.proxied === candidate.proxied;
        throw identical ? new ApiError(400, 81058, 'An identical record already exists.') : new ApiError(400, 81057, 'Record already exists.');
      }
    }
    for (const other of this.records.values()) {
      if (other.id === candidate.id || other.name !== candidate.name) continue;
      if (candidate.type === 'CNAME' && ADDRESS_TYPES.has(other.type)) {
        throw new ApiError(400, 81053, 'An A, AAAA, or CNAME record with that host already exists.');
      }
      if (other.type === 'CNAME') throw new ApiError(400, 81054, 'A CNAME record with that host already exists.');
    }
  }
}

function idOf(body: Body): string {
  return typeof body.id === 'string' ? body.id : '';
}

function withoutId(body: Body): Body {
  const { id: _id, ...rest } = body;
  return rest;
}

/** comment_modified_on / tags_modified_on are present only while there is a comment / are tags. */
function stampAttributeTimes(record: StoredDnsRecord, before: StoredDnsRecord | undefined, now: string): void {
  if (record.comment === undefined) delete record.comment_modified_on;
  else if (record.comment !== before?.comment) record.comment_modified_on = now;
  if (record.tags.length === 0) delete record.tags_modified_on;
  else if (JSON.stringify(record.tags) !== JSON.stringify(before?.tags ?? [])) record.tags_modified_on = now;
}
