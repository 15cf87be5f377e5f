/**
 * The schema checker is live: it flags traffic that breaks Cloudflare's schema, relaxes only the
 * documented quirks, and a violation fails the test that caused it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type Cloudflare from 'cloudflare';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BATCH_OPERATION, ConformanceChecker, type OperationRef } from '../support/cloudflare-double/conformance.js';
import { startCloudflareDouble, type CloudflareDouble } from '../support/cloudflare-double/index.js';
import { ViolationGate } from '../support/cloudflare-double/violation-gate.js';
import { sdkFor } from './cloudflare-sdk.js';

let double: CloudflareDouble;
let cf: Cloudflare;

beforeAll(async () => {
  double = await startCloudflareDouble();
  cf = sdkFor(double);
});
afterAll(() => double.close());
beforeEach(() => double.reset());

describe('the double checks its own traffic', () => {
  it('records a response that breaks the schema, and the gate turns it into a failure', async () => {
    const t = await cf.zeroTrust.tunnels.cloudflared.create({ account_id: double.accountId, name: 'corrupted' });
    const gate = new ViolationGate(() => [double]);
    gate.check(); // nothing yet

    double.corruptNextResponse((body) => ({ ...body, result: { ...(body.result as object), status: 'sideways', id: 42 } }));
    await cf.zeroTrust.tunnels.cloudflared.get(t.id!, { account_id: double.accountId });

    expect(double.violations).toEqual([
      expect.objectContaining({
        operation: 'GET /accounts/{account_id}/cfd_tunnel/{tunnel_id}',
        direction: 'response',
        status: 200,
        problems: expect.arrayContaining([expect.stringContaining('/result/status'), '/result/id must be string']),
      }),
    ]);
    expect(() => gate.check()).toThrow(/does not conform[\s\S]*\/result\/status/);
    expect(() => gate.check()).not.toThrow(); // reported once, by the test that caused it
    expect(double.takeViolations()).toHaveLength(1); // handled here, so the setup file's gate stays quiet
  });

  it('reports a violation that follows ones the test already took', async () => {
    const t = await cf.zeroTrust.tunnels.cloudflared.create({ account_id: double.accountId, name: 'twice' });
    const gate = new ViolationGate(() => [double]);
    const corruptGet = async () => {
      double.corruptNextResponse((body) => ({ ...body, result: { ...(body.result as object), status: 'sideways' } }));
      await cf.zeroTrust.tunnels.cloudflared.get(t.id!, { account_id: double.accountId });
    };
    await corruptGet();
    expect(() => gate.check()).toThrow(/does not conform/);
    expect(double.takeViolations()).toHaveLength(1);
    await corruptGet();
    expect(() => gate.check()).toThrow(/does not conform[\s\S]*\/result\/status/);
    expect(double.takeViolations()).toHaveLength(1);
  });

  it('records a request that breaks the schema', async () => {
    const r = await cf.dns.records.create({ zone_id: double.zoneId, type: 'CNAME', name: 'x.example.com', content: 'y.example.net', ttl: 1 });
    // SDK 7 lets a PATCH omit content; the 2024 schema's PATCH body still requires it.
    await cf.dns.records.edit(r.id, { zone_id: double.zoneId, type: 'CNAME', name: 'x.example.com', ttl: 1, comment: 'c' });
    await cf.dns.records.list({ zone_id: double.zoneId }, { query: { nmae: 'typo.example.com' } });
    expect(double.takeViolations()).toEqual([
      expect.objectContaining({ direction: 'request', method: 'PATCH', problems: ["(root) must have required property 'content'"] }),
      expect.objectContaining({ direction: 'request', method: 'GET', problems: ['query parameter "nmae" is not in the schema'] }),
    ]);
  });

  it('fails a vitest run through the setup file when a test leaves a violation behind', () => {
    const root = resolve(import.meta.dirname, '../..');
    const dir = mkdtempSync(join(tmpdir(), 'cf-gate-'));
    try {
      const config = join(dir, 'vitest.config.mjs');
      writeFileSync(
        config,
        `export default { test: { root: ${JSON.stringify(root)}, include: ['test/contract/fixtures/cloudflare-violation.fixture.ts'],
          setupFiles: ['test/support/cloudflare-double/vitest-setup.ts'], pool: 'forks', maxWorkers: 1 } };\n`,
      );
      const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST')));
      const run = spawnSync(process.execPath, [join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--config', config, '--reporter', 'verbose'], {
        cwd: root,
        env: { ...env, NO_COLOR: '1' },
        encoding: 'utf8',
        timeout: 60_000,
      });
      const output = `${run.stdout}\n${run.stderr}`;
      expect(run.status, output).toBe(1);
      expect(output).toMatch(/1 failed \| 1 passed/);
      expect(output).toMatch(/does not conform[\s\S]*\/result\/status must be equal to one of the allowed values/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the checker relaxes only the documented quirks', () => {
  const checker = ConformanceChecker.instance();
  const tunnelGet: OperationRef = { method: 'GET', template: '/accounts/{account_id}/cfd_tunnel/{tunnel_id}' };
  const tunnelDelete: OperationRef = { method: 'DELETE', template: '/accounts/{account_id}/cfd_tunnel/{tunnel_id}' };
  const configPut: OperationRef = { method: 'PUT', template: '/accounts/{account_id}/cfd_tunnel/{tunnel_id}/configurations' };
  const dnsList: OperationRef = { method: 'GET', template: '/zones/{zone_id}/dns_records' };
  const dnsCreate: OperationRef = { method: 'POST', template: '/zones/{zone_id}/dns_records' };
  const dnsDelete: OperationRef = { method: 'DELETE', template: '/zones/{zone_id}/dns_records/{dns_record_id}' };
  const tunnelList: OperationRef = { method: 'GET', template: '/accounts/{account_id}/cfd_tunnel' };
  const ids = { account_id: '0a1b2c3d4e5f60718293a4b5c6d7e8f9', tunnel_id: 'f70ff985-a4ef-4643-bbbc-4a0ed4fc8415', zone_id: 'f9e8d7c6b5a4938271605f4e3d2c1b0a' };
  const now = new Date().toISOString();
  const tunnel = {
    id: ids.tunnel_id,
    account_tag: ids.account_id,
    created_at: now,
    deleted_at: null,
    name: 't',
    connections: [],
    conns_active_at: null,
    conns_inactive_at: now,
    tun_type: 'cfd_tunnel',
    metadata: {},
    status: 'inactive',
    remote_config: true,
  };
  const ok = (result: unknown) => ({ success: true, errors: [], messages: [], result });
  const failure = (code: number) => ({ success: false, errors: [{ code, message: 'm' }], messages: [], result: null });
  const request = (body: unknown, query = '') => ({ pathParams: ids, query: new URLSearchParams(query), body });
  const rule = { hostname: 'a.example.com', service: 'http://localhost:8080' };
  const record = { type: 'CNAME', name: 'a.example.com', content: 'b.example.net', ttl: 1, proxied: true };

  it.each<[string, () => string[]]>([
    ['Q1 a catch-all last rule without hostname', () => checker.checkRequest(configPut, request({ config: { ingress: [rule, { service: 'http_status:404' }] } }))],
    ['Q2 a DELETE without body', () => checker.checkRequest(tunnelDelete, request(undefined))],
    ['Q2 a DNS record DELETE without body', () => checker.checkRequest(dnsDelete, { ...request(undefined), pathParams: { ...ids, dns_record_id: ids.account_id } })],
    ['Q3 null deleted_at and conns_active_at', () => checker.checkResponse(tunnelGet, 200, ok(tunnel))],
    ['Q4 an error body on a 4XX', () => checker.checkResponse(tunnelGet, 404, failure(1003))],
    ['Q5 a DNS body without the read-only fields', () => checker.checkRequest(dnsCreate, request(record))],
    ['Q6 name.* / content.* filters', () => checker.checkRequest(dnsList, request(undefined, 'name.exact=a.example.com&content.contains=b'))],
    ['G1 cascade on tunnel DELETE', () => checker.checkRequest(tunnelDelete, request(undefined, 'cascade=true'))],
    ['G2 code 971 on a 429', () => checker.checkResponse(tunnelGet, 429, failure(971))],
  ])('accepts %s', (_label, check) => {
    expect(check()).toEqual([]);
  });

  it.each<[string, () => string[], RegExp]>([
    [
      'a rule without hostname that is not the last',
      () => checker.checkRequest(configPut, request({ config: { ingress: [{ service: 'http://x' }, rule] } })),
      /ingress\/0 must have required property 'hostname'/,
    ],
    ['a body-less POST', () => checker.checkRequest(dnsCreate, request(undefined)), /request body is required/],
    ['null where the schema has no nullable', () => checker.checkResponse(tunnelGet, 200, ok({ ...tunnel, created_at: null })), /\/result\/created_at must be string/],
    [
      'a 4XX body that is not a failure envelope',
      () => checker.checkResponse(tunnelGet, 404, { ...failure(1003), success: true }),
      /\/success must be equal to one of the allowed values \[false\]/,
    ],
    ['a DNS body without content', () => checker.checkRequest(dnsCreate, request({ ...record, content: undefined })), /must have required property 'content'/],
    [
      'an over-long name.exact',
      () => checker.checkRequest(dnsList, request(undefined, `name.exact=${'a'.repeat(256)}`)),
      /"name.exact".*must NOT have more than 255 characters/,
    ],
    ['an unknown query parameter', () => checker.checkRequest(tunnelGet, request(undefined, 'cascade=true')), /"cascade" is not in the schema/],
    [
      'a dotted DNS filter other than name.* / content.*',
      () => checker.checkRequest(dnsList, request(undefined, 'type.exact=CNAME')),
      /"type.exact" is not in the schema/,
    ],
    [
      'a dotted DNS filter with an operator the API lacks',
      () => checker.checkRequest(dnsList, request(undefined, 'name.present=x&comment.bogus=y')),
      /"name.present" is not in the schema\n.*"comment.bogus" is not in the schema/,
    ],
    ['a dotted filter on the tunnel list', () => checker.checkRequest(tunnelList, request(undefined, 'name.exact=t')), /"name.exact" is not in the schema/],
    ['code 971 on anything but a 429', () => checker.checkResponse(tunnelGet, 400, failure(971)), /\/errors\/0\/code must be >= 1000/],
    [
      'a malformed path id',
      () => checker.checkRequest(tunnelGet, { ...request(undefined), pathParams: { ...ids, tunnel_id: 'nope' } }),
      /"tunnel_id"="nope": must match format "uuid"/,
    ],
    [
      'a DNS record type outside the enum',
      () => checker.checkRequest(dnsCreate, request({ ...record, type: 'CNAMEZ' })),
      /\/type must be equal to one of the allowed values/,
    ],
    [
      'a batch record with a misspelt field',
      () => checker.checkRequest(BATCH_OPERATION, request({ posts: [{ ...record, proxy: true }] })),
      /additional properties: "proxy"/,
    ],
    ['a batch response missing read-only fields', () => checker.checkResponse(BATCH_OPERATION, 200, ok({ posts: [record] })), /must have required property 'id'/],
  ])('rejects %s', (_label, check, problem) => {
    expect(check().join('\n')).toMatch(problem);
  });
});
