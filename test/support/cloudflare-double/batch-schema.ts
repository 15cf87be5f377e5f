/**
 * `POST /zones/{zone_id}/dns_records/batch` is newer than the 2024 schema subset, so its shapes are
 * written here by hand from the SDK 7.3.0 types (resources/dns/records.d.ts: RecordBatchParams,
 * BatchPatchParam, BatchPutParam, the *RecordParam interfaces, RecordBatchResponse, RecordResponse).
 */

/** Every DNS record type the API knows (the double's records accept the same list). */
export const RECORD_TYPES = [
  'A',
  'AAAA',
  'CAA',
  'CERT',
  'CNAME',
  'DNSKEY',
  'DS',
  'HTTPS',
  'LOC',
  'MX',
  'NAPTR',
  'NS',
  'OPENPGPKEY',
  'PTR',
  'SMIMEA',
  'SRV',
  'SSHFP',
  'SVCB',
  'TLSA',
  'TXT',
  'URI',
];

const identifier = { type: 'string', maxLength: 32 };
const ttl = {
  anyOf: [
    { type: 'number', minimum: 30, maximum: 86_400 },
    { type: 'number', enum: [1] },
  ],
};

/** Union of the properties of the SDK's *RecordParam interfaces; name, ttl and type are required in all 20. */
const recordParamProperties = {
  name: { type: 'string', maxLength: 255 },
  ttl,
  type: { type: 'string', enum: RECORD_TYPES },
  comment: { type: 'string' },
  content: { type: 'string' },
  data: { type: 'object' },
  priority: { type: 'number' },
  private_routing: { type: 'boolean' },
  proxied: { type: 'boolean' },
  settings: { type: 'object' },
  tags: { type: 'array', items: { type: 'string' } },
};

// The SDK's param types are closed, so an unknown key is a typo in the caller, not an API extension.
const recordParam = (withId: boolean): Record<string, unknown> => ({
  type: 'object',
  required: withId ? ['id', 'name', 'ttl', 'type'] : ['name', 'ttl', 'type'],
  properties: withId ? { id: identifier, ...recordParamProperties } : recordParamProperties,
  additionalProperties: false,
});

export const batchRequestSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    deletes: {
      type: 'array',
      items: { type: 'object', required: ['id'], properties: { id: identifier }, additionalProperties: false },
    },
    patches: { type: 'array', items: recordParam(true) },
    puts: { type: 'array', items: recordParam(true) },
    posts: { type: 'array', items: recordParam(false) },
  },
};

/** RecordResponse: the record fields plus the read-only ones the API always returns. */
const recordResponse = {
  type: 'object',
  required: ['id', 'name', 'ttl', 'type', 'created_on', 'modified_on', 'meta', 'proxiable'],
  properties: {
    ...recordParamProperties,
    id: identifier,
    created_on: { type: 'string', format: 'date-time' },
    modified_on: { type: 'string', format: 'date-time' },
    comment_modified_on: { type: 'string', format: 'date-time' },
    tags_modified_on: { type: 'string', format: 'date-time' },
    meta: { type: 'object' },
    proxiable: { type: 'boolean' },
  },
};

const messages = {
  type: 'array',
  items: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'integer' }, message: { type: 'string' } } },
};

export const batchResponseSchema = {
  type: 'object',
  required: ['success', 'errors', 'messages', 'result'],
  properties: {
    success: { enum: [true] },
    errors: messages,
    messages,
    result: {
      type: 'object',
      additionalProperties: false,
      properties: {
        deletes: { type: 'array', items: recordResponse },
        patches: { type: 'array', items: recordResponse },
        puts: { type: 'array', items: recordResponse },
        posts: { type: 'array', items: recordResponse },
      },
    },
  },
};
