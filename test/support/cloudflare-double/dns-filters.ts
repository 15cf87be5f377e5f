/**
 * DNS list filtering and ordering, in every query form the API documents (notes/cloudflare.md §3
 * "List filters"). All string comparisons are case-insensitive.
 */

export interface StoredDnsRecord {
  id: string;
  type: string;
  name: string;
  content: string;
  proxied: boolean;
  proxiable: boolean;
  ttl: number;
  comment?: string;
  tags: string[];
  settings: Record<string, unknown>;
  meta: Record<string, unknown>;
  created_on: string;
  modified_on: string;
  comment_modified_on?: string;
  tags_modified_on?: string;
}

type Predicate = (r: StoredDnsRecord) => boolean;
type StringOp = 'exact' | 'contains' | 'startswith' | 'endswith';

const STRING_OPS: StringOp[] = ['exact', 'contains', 'startswith', 'endswith'];

function compare(op: StringOp, actual: string | undefined, wanted: string): boolean {
  if (actual === undefined) return false;
  const a = actual.toLowerCase();
  const w = wanted.toLowerCase();
  switch (op) {
    case 'exact':
      return a === w;
    case 'contains':
      return a.includes(w);
    case 'startswith':
      return a.startsWith(w);
    case 'endswith':
      return a.endsWith(w);
  }
}

/** `name=` / `name.exact=` … for a string field; the plain key is an alias for `.exact`. */
function stringFieldPredicates(query: URLSearchParams, field: string, read: (r: StoredDnsRecord) => string | undefined): Predicate[] {
  const out: Predicate[] = query.getAll(field).map((v) => (r) => compare('exact', read(r), v));
  for (const op of STRING_OPS) {
    for (const v of query.getAll(`${field}.${op}`)) out.push((r) => compare(op, read(r), v));
  }
  return out;
}

function splitTag(tag: string): { name: string; value: string | undefined } {
  const i = tag.indexOf(':');
  return i < 0 ? { name: tag.toLowerCase(), value: undefined } : { name: tag.slice(0, i).toLowerCase(), value: tag.slice(i + 1) };
}

function hasTag(r: StoredDnsRecord, name: string, valueTest?: (value: string) => boolean): boolean {
  return r.tags.some((t) => {
    const parsed = splitTag(t);
    return parsed.name === name && (valueTest === undefined || valueTest(parsed.value ?? ''));
  });
}

function tagPredicates(query: URLSearchParams): Predicate[] {
  const out: Predicate[] = [];
  const valueOp = (op: StringOp, raw: string): Predicate => {
    const { name, value } = splitTag(raw);
    return (r) => hasTag(r, name, (v) => compare(op, v, value ?? ''));
  };
  for (const raw of query.getAll('tag')) {
    // `tag=name` ≡ tag.present=name; `tag=name:value` ≡ tag.exact=name:value
    out.push(raw.includes(':') ? valueOp('exact', raw) : (r) => hasTag(r, raw.toLowerCase()));
  }
  for (const raw of query.getAll('tag.present')) out.push((r) => hasTag(r, raw.toLowerCase()));
  for (const raw of query.getAll('tag.absent')) out.push((r) => !hasTag(r, raw.toLowerCase()));
  for (const op of STRING_OPS) for (const raw of query.getAll(`tag.${op}`)) out.push(valueOp(op, raw));
  return out;
}

function combine(predicates: Predicate[], mode: string | null): Predicate | undefined {
  if (predicates.length === 0) return undefined;
  return mode === 'any' ? (r) => predicates.some((p) => p(r)) : (r) => predicates.every((p) => p(r));
}

export function dnsRecordFilter(query: URLSearchParams): Predicate {
  const general: Predicate[] = [
    ...stringFieldPredicates(query, 'name', (r) => r.name),
    ...stringFieldPredicates(query, 'content', (r) => r.content),
    ...stringFieldPredicates(query, 'comment', (r) => r.comment),
  ];
  // Presence flags: the value is ignored.
  if (query.has('comment.present')) general.push((r) => r.comment !== undefined);
  if (query.has('comment.absent')) general.push((r) => r.comment === undefined);
  for (const t of query.getAll('type')) general.push((r) => r.type === t.toUpperCase());
  for (const p of query.getAll('proxied')) general.push((r) => String(r.proxied) === p);
  // Tag filters combine under tag_match and then count as one requirement under match.
  const tags = combine(tagPredicates(query), query.get('tag_match'));
  if (tags) general.push(tags);
  return combine(general, query.get('match')) ?? (() => true);
}

const ORDER_KEYS: Record<string, (r: StoredDnsRecord) => string | number> = {
  type: (r) => r.type,
  name: (r) => r.name,
  content: (r) => r.content.toLowerCase(),
  ttl: (r) => r.ttl,
  proxied: (r) => (r.proxied ? 1 : 0),
};

/** Stable sort on `order` (default type) and `direction`; ties keep creation order. */
export function orderDnsRecords(records: StoredDnsRecord[], query: URLSearchParams): StoredDnsRecord[] {
  const key = ORDER_KEYS[query.get('order') ?? 'type'] ?? ORDER_KEYS.type!;
  const sign = query.get('direction') === 'desc' ? -1 : 1;
  return [...records].sort((a, b) => {
    const x = key(a);
    const y = key(b);
    return x < y ? -sign : x > y ? sign : 0;
  });
}
