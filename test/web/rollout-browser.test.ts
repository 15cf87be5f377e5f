/**
 * /rollout in headless Chromium while serve's apply job rolls out: `tenantform serve` in-process
 * (runServe, as shipped, its web view on 127.0.0.1) against moto behind the fault proxy and the
 * Cloudflare double. The example fleet is applied, then a push changes both images and adds a
 * health check on a local HTTP server the test controls; the apply job redeploys the four
 * tenants in waves 0-3, and the server answers 503 for wave 2's tenant (initech) until released.
 * The page, opened once, must show wave 1 done and wave 2 in its health gate with its counts,
 * then — reloading itself, never navigated again by the test — the rollout finished. Screenshots
 * in test-artifacts/; no environment or generated secret on the page.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretName } from '../../src/contract.js';
import { ORG, tagsOf } from '../cli/apply-world.js';
import { startServeWorld, type ServeWorld } from '../serve/serve-world.js';
import { artifactPath, launchBrowser } from '../support/browser.js';

let w: ServeWorld;
let health: Server;
let browser: Browser;
let page: Page;
/** Slugs whose health check answers 503 until released. */
const held = new Set<string>(['initech']);
const checks: string[] = [];
const secrets: string[] = [];
const seen: string[] = [];
const WAIT = { timeout: 90_000, interval: 250 };

beforeAll(async () => {
  health = createServer((req, res) => {
    const slug = /^\/([^/]+)\/healthz$/.exec(req.url ?? '')?.[1] ?? '';
    checks.push(slug);
    res.statusCode = held.has(slug) ? 503 : 200;
    res.end(held.has(slug) ? 'starting' : 'ok');
  });
  await new Promise<void>((resolve) => health.listen(0, '127.0.0.1', resolve));
  const port = (health.address() as AddressInfo).port;

  w = await startServeWorld({ schedules: 'schedules:\n  apply: "0 0 1 1 *"\n' });
  // The fleet created (virtual time, as the apply tests do), then the change serve will roll out.
  const seeded = await w.world.run(['apply', '--auto-approve', '--json']);
  expect(seeded.code, seeded.stderr).toBe(0);
  await w.push({
    edit: (dir) => {
      const file = join(dir, 'fleet.yaml');
      writeFileSync(
        file,
        readFileSync(file, 'utf8')
          .replace('platform:1.5.0-rc.1', 'platform:1.5.0-rc.2')
          .replace('tenantImage: ghcr.io/example/platform:1.4.2', 'tenantImage: ghcr.io/example/platform:1.4.3')
          .replace(
            '  maxFailureRatio: 0.1\n',
            `  maxFailureRatio: 0.1\n  healthCheck: { url: "http://127.0.0.1:${port}/{slug}/healthz", timeoutSeconds: 600, intervalSeconds: 1 }\n`,
          ),
      );
    },
  });
  secrets.push(...w.world.envSecrets);
  for (const orgId of Object.values(ORG)) {
    const v = await w.world.check.secrets.send(new GetSecretValueCommand({ SecretId: secretName('dev', orgId) }));
    const bundle = JSON.parse(v.SecretString ?? '{}') as Record<string, string>;
    for (const key of ['DB_PASSWORD', 'ADMIN_TOKEN', 'TUNNEL_TOKEN']) secrets.push(bundle[key]!);
  }
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1400, height: 800 } });
}, 240_000);

afterAll(async () => {
  held.clear();
  await browser?.close();
  await w?.stop();
  await new Promise((resolve) => health?.close(resolve));
});

/** The page's text as the browser has it now ('' while it is reloading). */
async function bodyText(): Promise<string> {
  try {
    const text = await page.locator('body').innerText({ timeout: 2_000 });
    seen.push(text, await page.content());
    return text;
  } catch {
    return '';
  }
}

/** A wave's row, its cells joined by '|' ('' while the page reloads). */
async function row(wave: number): Promise<string> {
  try {
    const cells = await page.locator(`tr[data-wave="${wave}"] td`).allInnerTexts();
    return cells.map((c) => c.trim()).join('|');
  } catch {
    return '';
  }
}

describe('the rollout page follows serve’s apply job live', () => {
  it('shows wave 1 done and wave 2 in its health gate while the gate is held, then the rollout finished', async () => {
    const job = w.serve.fire('apply');
    // Open the page once the apply is running (a page opened before it has nothing to follow).
    await expect.poll(async () => (await (await fetch(`${w.url}/rollout`)).text()).includes('Apply running since'), WAIT).toBe(true);
    const res = await page.goto(`${w.url}/rollout`);
    expect(res?.status()).toBe(200);

    // Held: wave 2's only tenant settled, its gate polling; waves 0 and 1 done with their gates passed.
    await expect.poll(() => row(2), WAIT).toBe('2|1|1|0|0|checking 1 tenant|health gate|');
    expect(await row(0)).toMatch(/^canary \(0\)\|1\|1\|0\|0\|passed\|done\|\d+s$/);
    expect(await row(1)).toMatch(/^1\|1\|1\|0\|0\|passed\|done\|\d+s$/);
    expect(await row(3)).toBe('3|1|0|0|1||pending|');
    const running = await bodyText();
    expect(running).toMatch(/Apply running since \S+: rollout wave 2 \(3 of 4\); 2 done, 0 failed, 2 remaining\./);
    expect(running).toContain('This page reloads every');
    expect(await page.locator('#rollout-status[role="status"]').count()).toBe(1);
    await page.screenshot({ path: artifactPath('web-rollout-live.png'), fullPage: true });
    expect(checks.filter((s) => s === 'initech').length).toBeGreaterThanOrEqual(1);

    // Released: the page (not navigated again) reloads itself until the rollout is over.
    held.clear();
    await expect.poll(async () => /Rollout finished at \S+ \(run [^)]+\): 4 done, 0 failed, 0 remaining\./.test(await bodyText()), WAIT).toBe(true);
    await job;
    for (const n of [0, 1, 2, 3]) expect(await row(n)).toMatch(new RegExp(`^(canary \\(0\\)|${n})\\|1\\|1\\|0\\|0\\|(passed|none)\\|done\\|\\d+s$`));
    // The declared-stopped tenant is not checked: its gate is 'none'.
    expect(await row(3)).toContain('|none|done|');
    expect(await page.locator('meta[http-equiv="refresh"]').count()).toBe(0);
    await page.screenshot({ path: artifactPath('web-rollout-finished.png'), fullPage: true });

    // From outside: every tenant instance carries its new image.
    for (const [slug, orgId] of Object.entries(ORG)) {
      const tenant = (await w.world.instances(orgId)).find((i) => tagsOf(i).Role === 'tenant')!;
      expect(tagsOf(tenant).Image, slug).toBe(slug === 'acme' ? 'ghcr.io/example/platform:1.5.0-rc.2' : 'ghcr.io/example/platform:1.4.3');
    }
  }, 240_000);

  it('no secret on the page at any moment: the environment secrets and every generated password or token', () => {
    expect(seen.length).toBeGreaterThanOrEqual(4);
    for (const s of secrets) for (const text of seen) expect(text).not.toContain(s);
  });
});
