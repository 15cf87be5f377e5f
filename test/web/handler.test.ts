/**
 * The web view's handler on a real node:http server and a real SQLite audit store: routes,
 * methods, fall-through for paths it does not own, and no secret on any page even when one
 * reached the store's free-form fields or the snapshot's error texts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDACTED, Redactor } from '../../src/redact.js';
import { openAuditStore, type AuditStore } from '../../src/store/index.js';
import { createWebView } from '../../src/web/handler.js';
import { SnapshotHolder } from '../../src/web/snapshot.js';
import { changeSet, desired, drift, HOSTILE, HOSTILE_ESCAPED, ORG_A, sweep, WS_A } from './fixtures.js';

const SECRET = 'envsecret-4f9a1c2b7d3e8f60';
const PAGES = ['/', '/runs', '/drift', '/orphans', '/rollout'];

let dir: string;
let store: AuditStore;
let server: Server;
let base: string;
let runId: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tenantform-web-'));
  // The store's own redactor does not know the secret: as if it leaked into a summary before serve registered it.
  store = await openAuditStore(join(dir, 'audit.db'), { redactor: new Redactor() });
  runId = changeSet.runId!;
  await store.startRun({ runId, command: 'apply', environment: 'dev', host: 'ci-1', pid: 7, gitCommit: 'c0ffee' });
  await store.recordResource({
    runId,
    environment: 'dev',
    kind: 'instance',
    resourceId: 'i-0tenant',
    orgId: ORG_A,
    slug: 'acme',
    state: 'created',
    details: { note: `made with ${SECRET}` },
  });
  await store.recordResource({ runId, environment: 'dev', kind: 'instance', resourceId: 'i-0ws', orgId: ORG_A, workspaceId: WS_A, slug: 'acme', state: 'created' });
  await store.finishRun({ runId, status: 'partial', exitCode: 4, summary: { failures: [{ error: `boom ${SECRET}` }], hint: HOSTILE } });

  const redactor = new Redactor();
  redactor.register(SECRET);
  const holder = new SnapshotHolder('dev');
  holder.update({
    desired,
    lastDrift: { ...drift, findings: drift.findings.map((f) => ({ ...f, message: `${f.message} ${SECRET}` })) },
    lastSweep: { ...sweep, orphans: sweep.orphans.map((o) => ({ ...o, error: `denied ${SECRET}` })) },
    lastChangeSet: { ...changeSet, results: changeSet.results.map((r) => ({ ...r, error: r.error ? `${r.error} ${SECRET}` : undefined })) },
    rollout: { phase: `wave ${SECRET}`, done: 1, failed: 1, remaining: 0 },
  });
  const web = createWebView({ store, snapshot: () => holder.get(), redactor });
  server = createServer((req, res) => {
    web(req, res).then(
      (handled) => {
        if (!handled) res.writeHead(404, { 'content-type': 'text/plain' }).end('not the web view\n');
      },
      (e: unknown) => res.writeHead(599).end(String(e)),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('web view handler', () => {
  it('serves every page as HTML, with no secret and no script', async () => {
    for (const path of [...PAGES, `/runs/${runId}`]) {
      const res = await fetch(base + path);
      const text = await res.text();
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(text, path).not.toContain(SECRET);
      expect(text, path).not.toContain('<script');
    }
  });

  it('redacts a secret that reached the store or the snapshot, and still escapes', async () => {
    const run = await (await fetch(`${base}/runs/${runId}`)).text();
    expect(run).toContain(`boom ${REDACTED}`);
    expect(run).toContain('i-0ws');
    expect(run).toContain(HOSTILE_ESCAPED.replaceAll('&quot;', '\\&quot;'));
    const drift = await (await fetch(`${base}/drift`)).text();
    expect(drift).toContain(`ingress open to the world ${REDACTED}`);
  });

  it('links the fleet to the last apply, and the runs list to each run', async () => {
    const fleet = await (await fetch(`${base}/`)).text();
    expect(fleet).toContain(`<a href="/runs/${runId}">`);
    expect(fleet).toContain('<strong>acme</strong>');
    const runs = await (await fetch(`${base}/runs/`)).text();
    expect(runs).toContain(`<a href="/runs/${runId}">`);
  });

  it('answers 404 for an unknown run, escaping the id asked for', async () => {
    const res = await fetch(`${base}/runs/${encodeURIComponent('<img src=x>')}`);
    expect(res.status).toBe(404);
    const text = await res.text();
    expect(text).toContain('No run &lt;img src=x&gt;');
    expect(text).not.toContain('<img');
  });

  it('is read-only: 405 with Allow for anything but GET and HEAD; HEAD has no body', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const res = await fetch(`${base}/`, { method });
      expect(res.status, method).toBe(405);
      expect(res.headers.get('allow')).toBe('GET, HEAD');
    }
    const head = await fetch(`${base}/drift`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBeGreaterThan(100);
    expect(await head.text()).toBe('');
  });

  it('resolves false for paths it does not own, so serve routes them', async () => {
    for (const path of ['/healthz', '/metrics', '/runs/a/b', '/favicon.ico']) {
      const res = await fetch(base + path);
      expect(res.status, path).toBe(404);
      expect(await res.text()).toBe('not the web view\n');
    }
  });
});
