/**
 * The web view in a real browser after a real apply: the example fleet applied against moto
 * (behind the fault proxy) and the Cloudflare double, a security group opened to the world,
 * then drift, plan and (with a tenant removed from the repository) sweep — the snapshot serve
 * would hold. createWebView on a node:http server on 127.0.0.1, driven by headless Debian
 * Chromium through playwright-core: each page's content, a click from the fleet to the apply's
 * run, no generated or environment secret on any page, and screenshots kept in test-artifacts/.
 */
import { rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { AuthorizeSecurityGroupIngressCommand, CreateTagsCommand, DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planFleet } from '../../src/app/plan.js';
import type { ChangeSet } from '../../src/changeset/model.js';
import { cloudSessionFactory } from '../../src/cli/cloud-session.js';
import { secretName } from '../../src/contract.js';
import type { DriftResult } from '../../src/drift/model.js';
import { Redactor } from '../../src/redact.js';
import { openAuditStore, type AuditStore } from '../../src/store/index.js';
import type { SweepReport } from '../../src/sweep/model.js';
import { createWebView } from '../../src/web/handler.js';
import { SnapshotHolder } from '../../src/web/snapshot.js';
import { ORG, startApplyWorld, tagsOf, type ApplyWorld } from '../cli/apply-world.js';
import { sweep } from '../cli/sweep-world.js';
import { artifactPath, launchBrowser } from '../support/browser.js';

let w: ApplyWorld;
let store: AuditStore;
let server: Server;
let browser: Browser;
let page: Page;
let base: string;
let applyRunId: string;
let openGroup: string;
let globexInstance: string;
const HOSTILE_TAG = '<script>document.title="pwned"</script><img src=x onerror=alert(1)>';
/** Every secret value of the world: the environment's and each tenant's generated bundle. */
const secrets: string[] = [];
/** Each page's text and markup as the browser got them, for the secret hunt. */
const seen: string[] = [];

beforeAll(async () => {
  w = await startApplyWorld();
  const applied = await w.run(['apply', '--auto-approve', '--json']);
  expect(applied.code, applied.stderr).toBe(0);
  const changeSet = JSON.parse(applied.stdout) as ChangeSet;
  applyRunId = changeSet.runId!;
  secrets.push(...w.envSecrets);
  for (const orgId of Object.values(ORG)) {
    const v = await w.check.secrets.send(new GetSecretValueCommand({ SecretId: secretName('dev', orgId) }));
    const bundle = JSON.parse(v.SecretString ?? '{}') as Record<string, string>;
    for (const key of ['DB_PASSWORD', 'ADMIN_TOKEN', 'TUNNEL_TOKEN']) secrets.push(bundle[key]!);
  }
  expect(secrets.every((s) => typeof s === 'string' && s.length >= 16)).toBe(true);

  // acme's tenant group opened to the world on tcp/22: a security finding.
  const groups = (await w.check.ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'tag:OrgID', Values: [ORG.acme] }] }))).SecurityGroups ?? [];
  const group = groups.find((g) => tagsOf(g).Role === 'tenant')!;
  openGroup = group.GroupId!;
  await w.check.ec2.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: openGroup,
      IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
    }),
  );
  // globex's tenant instance image tag edited by hand to markup: a tag finding whose value must show as text.
  const globex = (await w.instances(ORG.globex)).find((i) => tagsOf(i).Role === 'tenant')!;
  globexInstance = globex.InstanceId!;
  await w.check.ec2.send(new CreateTagsCommand({ Resources: [globexInstance], Tags: [{ Key: 'Image', Value: HOSTILE_TAG }] }));
  const drifted = await w.run(['drift', '--db', w.db, '--json']);
  expect(drifted.code, drifted.stderr).toBe(2);
  const lastDrift = JSON.parse(drifted.stdout) as DriftResult;

  const redactor = new Redactor();
  redactor.registerEnv(w.env);
  const planned = await planFleet({ repoDir: w.dir, wiringEnv: w.env, clients: cloudSessionFactory(w.env), redactor });
  if (!planned.ok) throw new Error(`plan failed: ${JSON.stringify(planned.diagnostics)}`);

  // initech removed from the repository: its resources are orphans to the sweep.
  rmSync(join(w.dir, 'tenants', 'initech'), { recursive: true, force: true });
  const swept = await sweep(w, ['--min-age', '0s', '--json']);
  expect(swept.code, swept.stderr).toBe(2);
  const lastSweep = JSON.parse(swept.stdout) as SweepReport;

  const holder = new SnapshotHolder('dev');
  holder.update({ desired: planned.desired, inventory: planned.inventory, lastPlan: planned.plan, lastChangeSet: changeSet, lastDrift, lastSweep });
  holder.update({ rollout: { phase: 'idle', done: changeSet.summary.ok, failed: changeSet.summary.failed, remaining: 0 } });

  store = await openAuditStore(w.db, { redactor });
  const web = createWebView({ store, snapshot: () => holder.get(), redactor });
  server = createServer((req, res) => {
    void web(req, res).then((handled) => {
      if (!handled) res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
  await store?.close();
  await w?.close();
});

async function visit(path: string, shot: string): Promise<string> {
  const res = await page.goto(base + path);
  expect(res?.status(), path).toBe(200);
  const text = await page.locator('body').innerText();
  seen.push(text, await page.content());
  await page.screenshot({ path: artifactPath(shot), fullPage: true });
  return text;
}

describe('the web view in headless Chromium after an apply', () => {
  it('the fleet shows every tenant and workspace, live state, the last apply and drift', async () => {
    const text = await visit('/', 'web-fleet.png');
    expect(await page.title()).toBe('Fleet · tenantform dev');
    for (const name of ['acme', 'globex', 'initech', 'umbrella', 'research', 'support', 'ops', 'analytics']) expect(text).toContain(name);
    expect(text).toContain('1 security'); // acme's open group
    expect(text).toContain('1 drift'); // globex's edited tag
    expect(text).toContain('stopped'); // umbrella is declared and live stopped
    expect(await page.locator(`a[href="/runs/${applyRunId}"]`).count()).toBeGreaterThanOrEqual(8);
  });

  it('a click from the fleet leads to the apply run, its change set and events', async () => {
    await page.goto(base + '/');
    await page.locator(`a[href="/runs/${applyRunId}"]`).first().click();
    await page.waitForURL(`${base}/runs/${applyRunId}`);
    const text = await page.locator('body').innerText();
    seen.push(text, await page.content());
    await page.screenshot({ path: artifactPath('web-run.png'), fullPage: true });
    expect(text).toContain(`Run ${applyRunId}`);
    expect(text).toContain('succeeded');
    expect(text).toContain('Change set');
    expect(text).toContain(`create:tenant:${ORG.acme}`);
    expect(text).toContain('Resource events');
    const acmeInstances = (await w.instances(ORG.acme)).map((i) => i.InstanceId!);
    for (const id of acmeInstances) expect(text).toContain(id);
  });

  it('runs lists the apply run (drift and a dry-run sweep record none), linked to its page', async () => {
    const text = await visit('/runs', 'web-runs.png');
    const row = await page.locator('tbody tr').first().innerText();
    expect(row).toContain(applyRunId);
    expect(row).toContain('apply');
    expect(row).toContain('succeeded');
    expect(text).not.toContain('running');
    expect(await page.locator(`a[href="/runs/${applyRunId}"]`).count()).toBe(1);
  });

  it('drift lists the open group first, as a security finding, then the renamed instance', async () => {
    const text = await visit('/drift', 'web-drift.png');
    const rows = page.locator('tbody tr');
    const firstRow = await rows.first().innerText();
    expect(firstRow).toContain('security');
    expect(firstRow).toContain('acme');
    expect(firstRow).toContain(openGroup);
    expect(text).toContain('ruleOpenToWorld');
    const tagRow = await rows.filter({ hasText: globexInstance }).innerText();
    expect(tagRow).toContain('globex');
    // The hostile tag value is shown as text, and became no element: no script ran, no image loaded.
    expect(tagRow).toContain(`Image=${HOSTILE_TAG}`);
    expect(await page.locator('main script, main img').count()).toBe(0);
    expect(await page.title()).toBe('Drift · tenantform dev');
  });

  it('orphans lists the removed tenant resources', async () => {
    const text = await visit('/orphans', 'web-orphans.png');
    expect(text).toContain('undeclaredTenant');
    const initech = await w.instances(ORG.initech);
    expect(initech.length).toBeGreaterThan(0);
    for (const i of initech) expect(text).toContain(i.InstanceId!);
  });

  it('rollout shows the progress and the last change set', async () => {
    const text = await visit('/rollout', 'web-rollout.png');
    expect(text).toContain('idle');
    expect(text).toContain('No failed actions');
    // The edited Image tag makes the plan redeploy globex: a wave planned, not yet applied.
    const wave = await page.locator('tbody tr', { hasText: 'globex' }).innerText();
    expect(wave).toContain('pending');
  });

  it('no page holds a secret: the environment secrets and every generated password or token', () => {
    expect(seen.length).toBeGreaterThanOrEqual(12);
    for (const s of secrets) for (const text of seen) expect(text).not.toContain(s);
  });
});
