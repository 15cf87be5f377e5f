/**
 * Account moves ride the rollout waves (issue 13: "replacements (an AMI change, a volume shrink, an
 * account move) are rolled in the same waves as redeploys, canaries first"). Flipping `canary` on
 * two tenants at once — globex into the canary account (a canary now: wave 0), acme out of it
 * (wave 1) — runs each move in its wave: the new home first, the health gate on it, then the old
 * home deleted. A moved canary that fails its check halts the later waves and keeps its old home.
 * Everything is checked from outside, with clients in each account.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DescribeInstancesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { ListSecretsCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChangeSet } from '../../src/apply/changeset.js';
import { startCanaryAccount, type CanaryAccount } from '../support/canary-account.js';
import { ORG, startApplyWorld, type ApplyWorld } from './apply-world.js';

const LIVE = ['pending', 'running', 'stopping', 'stopped', 'shutting-down'];

async function orgInstances(ec2: EC2Client, orgId: string): Promise<string[]> {
  const out = await ec2.send(
    new DescribeInstancesCommand({
      Filters: [
        { Name: 'instance-state-name', Values: LIVE },
        { Name: 'tag:OrgID', Values: [orgId] },
      ],
      MaxResults: 1000,
    }),
  );
  return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId!);
}

async function liveBundles(secrets: SecretsManagerClient, orgId: string): Promise<string[]> {
  const out = await secrets.send(new ListSecretsCommand({ Filters: [{ Key: 'tag-value', Values: [orgId] }] }));
  return (out.SecretList ?? []).filter((s) => !s.DeletedDate).map((s) => s.Name!);
}

describe('account moves in the rollout waves', () => {
  let w: ApplyWorld;
  let c: CanaryAccount;
  let server: Server;
  const status = new Map<string, number>();
  const seen: string[] = [];
  const edit = (file: string, f: (s: string) => string) => writeFileSync(join(w.dir, file), f(readFileSync(join(w.dir, file), 'utf8')));
  const overrides = ['--allow-deletes', '2', '--allow-replacements', '2', '--allow-terminations', '10'];

  beforeAll(async () => {
    w = await startApplyWorld();
    c = await startCanaryAccount(w.aws);
    Object.assign(w.env, c.env);
    edit('tenants/acme/tenant.yaml', (s) => s.replace('deletionProtection: true', 'deletionProtection: false'));
    server = createServer((req, res) => {
      const slug = /^\/([^/]+)\/healthz$/.exec(req.url ?? '')?.[1] ?? '';
      seen.push(slug);
      res.statusCode = status.get(slug) ?? 200;
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    c?.close();
    await w?.close();
  });

  it('a moved canary that fails its health check halts the later waves, and no old home of a tenant whose new home failed is deleted', async () => {
    expect((await w.run(['apply', '--auto-approve'])).code).toBe(0);
    expect(await orgInstances(c.check.ec2, ORG.acme)).toHaveLength(3);
    expect(await orgInstances(w.check.ec2, ORG.globex)).toHaveLength(2);
    const port = (server.address() as AddressInfo).port;
    edit('fleet.yaml', (s) =>
      s.replace(
        '  maxFailureRatio: 0.1\n',
        `  maxFailureRatio: 0.1\n  healthCheck: { url: "http://127.0.0.1:${port}/{slug}/healthz", timeoutSeconds: 10, intervalSeconds: 5 }\n`,
      ),
    );
    edit('tenants/acme/tenant.yaml', (s) => s.replace('canary: true', 'canary: false'));
    edit('tenants/globex/tenant.yaml', (s) => `${s.trimEnd()}\ncanary: true\n`);
    status.set('globex', 503);
    seen.length = 0;

    const res = await w.run(['apply', '--auto-approve', '--json', ...overrides]);
    expect(res.code).toBe(4);
    const cs = JSON.parse(res.stdout) as ChangeSet;
    // globex is a canary now (wave 0), acme is not (wave 1); the moves rolled, canaries first.
    expect(cs.rollout.waves).toEqual([
      { wave: 0, actions: expect.any(Number) as number, failed: expect.any(Number) as number, failureRatio: 1, halted: true, unhealthy: 1 },
    ]);
    const globex = cs.results.filter((r) => r.target.orgId === ORG.globex);
    expect(globex.every((r) => r.wave === 0 || r.target.kind === 'workspace')).toBe(true);
    expect(globex.find((r) => r.move && r.kind !== 'delete')).toMatchObject({ status: 'failed', failedOperation: 'health check', account: 'canary' });
    expect(globex.find((r) => r.move && r.kind === 'delete')).toMatchObject({ status: 'skipped', skipped: { reason: 'dependency' }, account: 'main' });
    const acme = cs.results.filter((r) => r.target.orgId === ORG.acme);
    expect(acme.length).toBeGreaterThan(0);
    for (const r of acme) expect(r).toMatchObject({ status: 'skipped', skipped: { reason: 'halted' } });
    expect(seen).not.toContain('acme');
    // From outside: globex has its new home in the canary account and still its old one in main;
    // acme was not touched — all of it still in the canary account, nothing of it in main.
    expect(await orgInstances(c.check.ec2, ORG.globex)).toHaveLength(2);
    expect(await orgInstances(w.check.ec2, ORG.globex)).toHaveLength(2);
    expect(await liveBundles(w.check.secrets, ORG.globex)).toHaveLength(1);
    expect(await orgInstances(c.check.ec2, ORG.acme)).toHaveLength(3);
    expect(await orgInstances(w.check.ec2, ORG.acme)).toEqual([]);
    expect(await liveBundles(w.check.secrets, ORG.acme)).toEqual([]);
  });

  it('healthy, the moves run wave by wave: globex checked at its new home, then its old one deleted, all before acme starts', async () => {
    status.delete('globex');
    seen.length = 0;
    const from = w.auditRows().length;
    const res = await w.run(['apply', '--auto-approve', '--json', ...overrides]);
    expect(res.code).toBe(0);
    const cs = JSON.parse(res.stdout) as ChangeSet;
    expect(cs.rollout.waves.map((x) => [x.wave, x.failed, x.halted])).toEqual([
      [0, 0, false],
      [1, 0, false],
    ]);
    expect(cs.results.find((r) => r.target.orgId === ORG.acme && r.move && r.kind === 'delete')).toMatchObject({ status: 'ok', wave: 1, account: 'canary' });
    expect(cs.results.find((r) => r.target.orgId === ORG.globex && r.move && r.kind === 'delete')).toMatchObject({ status: 'ok', wave: 0, account: 'main' });
    expect(seen).toEqual(['globex', 'acme']);
    // Audit order: everything of globex's wave (its old home's deletes included) before anything of acme's.
    const rows = w.auditRows().slice(from);
    const lastGlobex = rows.map((r) => r.org_id).lastIndexOf(ORG.globex);
    const firstAcme = rows.map((r) => r.org_id).indexOf(ORG.acme);
    expect(lastGlobex).toBeGreaterThanOrEqual(0);
    expect(firstAcme).toBeGreaterThan(lastGlobex);
    expect(rows.filter((r) => r.org_id === ORG.globex && r.kind === 'instance' && r.state === 'deleted')).toHaveLength(2);
    // waveStarted events in order, each wave finished before the next started.
    const events = res.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { event: string; wave?: number; result?: { wave: number } });
    expect(events.filter((e) => e.event === 'waveStarted' || e.event === 'waveFinished').map((e) => `${e.event}:${e.wave ?? e.result?.wave}`)).toEqual([
      'waveStarted:0',
      'waveFinished:0',
      'waveStarted:1',
      'waveFinished:1',
    ]);
    // From outside: each tenant lives in its new account only.
    expect(await orgInstances(c.check.ec2, ORG.globex)).toHaveLength(2);
    expect(await orgInstances(w.check.ec2, ORG.globex)).toEqual([]);
    expect(await liveBundles(w.check.secrets, ORG.globex)).toEqual([]);
    expect(await orgInstances(w.check.ec2, ORG.acme)).toHaveLength(3);
    expect(await orgInstances(c.check.ec2, ORG.acme)).toEqual([]);
    expect(await liveBundles(c.check.secrets, ORG.acme)).toEqual([]);
    expect((await w.run(['plan'])).code).toBe(0);
  });
});
