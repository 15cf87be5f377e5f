/**
 * The health check's polling against a local HTTP server (127.0.0.1, port 0) that answers as
 * the test decides, with virtual time for the pauses and the deadline.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { healthFailure, healthUrl, pollHealth } from '../../src/apply/health.js';
import { virtualClock } from './harness.js';

describe('health check polling', () => {
  let server: Server;
  let base: string;
  const answers = new Map<string, number[]>();
  const seen: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req.url ?? '');
      const queue = answers.get(req.url ?? '') ?? [];
      res.statusCode = queue.length > 1 ? queue.shift()! : (queue[0] ?? 404);
      res.end('body that is never read into the change set');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('fills the template per tenant, URL-encoded', () => {
    expect(healthUrl('https://{slug}.{appDomain}/healthz?org={orgId}', { slug: 'acme', orgId: 'a b', appDomain: 'tenants.example.dev' })).toBe(
      'https://acme.tenants.example.dev/healthz?org=a%20b',
    );
  });

  it('polls until a 2xx answer, counting the attempts', async () => {
    answers.set('/acme/healthz', [503, 503, 200]);
    const r = await pollHealth(`${base}/acme/healthz`, { url: '', timeoutSeconds: 60, intervalSeconds: 5 }, virtualClock());
    expect(r).toMatchObject({ ok: true, status: 200, attempts: 3, url: `${base}/acme/healthz` });
    expect(r.elapsedMs).toBeGreaterThanOrEqual(10_000);
  });

  it('gives up at the deadline with the last status it saw', async () => {
    answers.set('/bolt/healthz', [500]);
    const r = await pollHealth(`${base}/bolt/healthz`, { url: '', timeoutSeconds: 20, intervalSeconds: 5 }, virtualClock());
    expect(r).toMatchObject({ ok: false, status: 500, attempts: 5 });
    expect(r.error).toBeUndefined();
    expect(healthFailure(r)).toBe(`health check ${base}/bolt/healthz failed after 5 attempts (20 s): last saw HTTP 500`);
    expect(healthFailure(r)).not.toContain('never read');
  });

  it('a redirect is not health', async () => {
    answers.set('/cody/healthz', [302]);
    const r = await pollHealth(`${base}/cody/healthz`, { url: '', timeoutSeconds: 1, intervalSeconds: 1 }, virtualClock());
    expect(r).toMatchObject({ ok: false, status: 302 });
  });

  it('no server: the network error is what it saw', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const r = await pollHealth(`http://127.0.0.1:${port}/healthz`, { url: '', timeoutSeconds: 2, intervalSeconds: 1 }, virtualClock());
    expect(r).toMatchObject({ ok: false, attempts: 3, error: 'ECONNREFUSED' });
    expect(r.status).toBeUndefined();
  });
});
