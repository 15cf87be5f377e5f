/**
 * Rollout health gates end to end: apply redeploys the repo's tenants in waves and, after each
 * wave, polls each tenant's health URL on a local HTTP server (127.0.0.1, port 0) that answers per
 * tenant as the test decides. An unhealthy tenant fails its wave (and halts the rollout past the
 * ratio); the change set carries what the check saw; its Image tag stays on the old image, so the
 * next plan redeploys it again; a stopped tenant is not checked.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetCommandInvocationCommand } from '@aws-sdk/client-ssm';
import type { ChangeSet } from '../../src/apply/changeset.js';
import type { Plan } from '../../src/plan/model.js';
import { ORG, startApplyWorld, tagsOf, type ApplyWorld } from './apply-world.js';

describe('apply: rollout health gates', () => {
  let w: ApplyWorld;
  let server: Server;
  let port: number;
  const status = new Map<string, number>();
  const seen: string[] = [];
  beforeAll(async () => {
    w = await startApplyWorld();
    server = createServer((req, res) => {
      seen.push(req.url ?? '');
      const slug = /^\/([^/]+)\/healthz$/.exec(req.url ?? '')?.[1] ?? '';
      res.statusCode = status.get(slug) ?? 200;
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await w?.close();
  });

  it('an unhealthy tenant fails its wave and halts the rollout; the change set says what the check saw', async () => {
    expect((await w.run(['apply', '--auto-approve', '--json'])).code).toBe(0);
    const fleetFile = join(w.dir, 'fleet.yaml');
    writeFileSync(
      fleetFile,
      readFileSync(fleetFile, 'utf8')
        .replace('platform:1.5.0-rc.1', 'platform:1.5.0-rc.2')
        .replace('tenantImage: ghcr.io/example/platform:1.4.2', 'tenantImage: ghcr.io/example/platform:1.4.3')
        .replace(
          '  maxFailureRatio: 0.1\n',
          `  maxFailureRatio: 0.1\n  healthCheck: { url: "http://127.0.0.1:${port}/{slug}/healthz", timeoutSeconds: 30, intervalSeconds: 5 }\n`,
        ),
    );
    status.set('initech', 503);
    seen.length = 0;

    const res = await w.run(['apply', '--auto-approve', '--json']);
    expect(res.code).toBe(4);
    const cs = JSON.parse(res.stdout) as ChangeSet;
    // Waves are planned afresh each time; here acme (canary) wave 0, globex wave 1, initech wave 2 (25% of 2), umbrella wave 3.
    expect(cs.rollout.waves).toEqual([
      { wave: 0, actions: 1, failed: 0, failureRatio: 0, halted: false, unhealthy: 0 },
      { wave: 1, actions: 1, failed: 0, failureRatio: 0, halted: false, unhealthy: 0 },
      { wave: 2, actions: 1, failed: 1, failureRatio: 1, halted: true, unhealthy: 1 },
    ]);
    const bySlug = new Map(cs.results.filter((r) => r.kind === 'redeploy').map((r) => [r.target.slug, r]));
    expect(bySlug.get('acme')!.healthCheck).toMatchObject({ ok: true, status: 200, attempts: 1, url: `http://127.0.0.1:${port}/acme/healthz` });
    expect(bySlug.get('globex')).toMatchObject({ status: 'ok', healthCheck: { ok: true, status: 200 } });
    const initech = bySlug.get('initech')!;
    expect(initech).toMatchObject({ status: 'failed', failedOperation: 'health check', healthCheck: { ok: false, status: 503, attempts: 7 } });
    expect(initech.error).toContain(`health check http://127.0.0.1:${port}/initech/healthz failed after 7 attempts (30 s): last saw HTTP 503 (tenant initech)`);
    expect(bySlug.get('umbrella')).toMatchObject({ status: 'skipped', skipped: { reason: 'halted' } });
    expect(new Set(seen)).toEqual(new Set(['/acme/healthz', '/globex/healthz', '/initech/healthz']));
    // The redeploy itself ran (the check is after it): its SSM command succeeded on initech's instance…
    const initechInstance = (await w.instances(ORG.initech)).find((i) => tagsOf(i).Role === 'tenant')!;
    const command = w
      .auditRows()
      .filter((r) => r.resource_id === initechInstance.InstanceId && r.details?.includes('tenantform redeploy ghcr.io/example/platform:1.4.3'))
      .map((r) => JSON.parse(r.details!) as { commandId: string; outcome: string });
    expect(command).toEqual([expect.objectContaining({ outcome: 'succeeded' })]);
    const invocation = await w.check.ssm.send(new GetCommandInvocationCommand({ CommandId: command[0]!.commandId, InstanceId: initechInstance.InstanceId! }));
    expect(invocation.Status).toBe('Success');
    // …but the gate failed, so the Image tag (what the next plan compares) stays on the old image,
    // while the healthy tenants' tags moved.
    expect(tagsOf(initechInstance).Image).toBe('ghcr.io/example/platform:1.4.2');
    expect(tagsOf((await w.instances(ORG.globex)).find((i) => tagsOf(i).Role === 'tenant')!).Image).toBe('ghcr.io/example/platform:1.4.3');

    // --json: progress as JSON lines on stderr, one per event, stdout only the change set.
    const events = res.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { event: string; result?: { wave: number; unhealthy?: number } });
    expect(events.filter((e) => e.event === 'waveFinished').map((e) => `${e.result!.wave}:${e.result!.unhealthy}`)).toEqual(['0:0', '1:0', '2:1']);
    expect(events.some((e) => e.event === 'progress')).toBe(true);
    // Nothing secret in what the check recorded.
    for (const s of w.envSecrets) expect(res.stdout + res.stderr).not.toContain(s);
  });

  it('the next plan shows the unhealthy tenant’s redeploy again, beside the halted one', async () => {
    const res = await w.run(['plan', '--json']);
    expect(res.code).toBe(2);
    const plan = JSON.parse(res.stdout) as Plan;
    expect(plan.actions.filter((a) => a.kind === 'redeploy').map((a) => [a.target.slug, a.intent.kind === 'tenant' ? a.intent.tenant.image : undefined])).toEqual([
      ['initech', 'ghcr.io/example/platform:1.4.3'],
      ['umbrella', 'ghcr.io/example/platform:1.4.3'],
    ]);
  });

  it('with initech healthy again, apply retries it and converges; declared-stopped umbrella is not checked; CI=true prints one line per wave', async () => {
    status.delete('initech');
    seen.length = 0;
    const res = await w.run(['apply', '--auto-approve'], { io: { env: { ...w.env, CI: 'true' } } });
    expect(res.code).toBe(0);
    // initech (wave 1) is checked; umbrella (wave 2, declared stopped) is not.
    expect(seen).toEqual(['/initech/healthz']);
    expect(res.stderr).toMatch(/^wave 1: 1\/1 ok, 0 failed, 0 unhealthy, \d+s; rollout wave 1 \(2 waves\): 1 done, 0 failed, 1 remaining/m);
    expect(res.stderr).toMatch(/^wave 2: 1\/1 ok, 0 failed, 0 unhealthy, \d+s; rollout wave 2 \(2 waves\): 2 done, 0 failed, 0 remaining/m);
    expect((await w.instances(ORG.umbrella)).map((i) => i.State?.Name)).toEqual(['stopped']);
    for (const org of [ORG.initech, ORG.umbrella]) {
      expect(tagsOf((await w.instances(org)).find((i) => tagsOf(i).Role === 'tenant')!).Image).toBe('ghcr.io/example/platform:1.4.3');
    }
    expect((await w.run(['plan', '--json'])).code).toBe(0);
  });

  it('an Image tag that cannot move after a passed gate fails its redeploy, which the next plan retries', async () => {
    const fleetFile = join(w.dir, 'fleet.yaml');
    writeFileSync(fleetFile, readFileSync(fleetFile, 'utf8').replace('tenantImage: ghcr.io/example/platform:1.4.3', 'tenantImage: ghcr.io/example/platform:1.4.4'));
    const fault = w.aws.faults.inject({ kind: 'serverError', service: 'ec2', action: 'CreateTags' });
    let res;
    try {
      res = await w.run(['apply', '--auto-approve', '--json']);
    } finally {
      fault.remove();
    }
    expect(res.code).toBe(4);
    const cs = JSON.parse(res.stdout) as ChangeSet;
    const failed = cs.results.filter((r) => r.status === 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ kind: 'redeploy', failedOperation: 'tag image', healthCheck: { ok: true } });
    const slug = failed[0]!.target.slug;
    const org = failed[0]!.target.orgId;
    expect(tagsOf((await w.instances(org)).find((i) => tagsOf(i).Role === 'tenant')!).Image).toBe('ghcr.io/example/platform:1.4.3');
    const plan = JSON.parse((await w.run(['plan', '--json'])).stdout) as Plan;
    expect(plan.actions.filter((a) => a.kind === 'redeploy').map((a) => a.target.slug)).toContain(slug);
  });
  it('a replacement whose tenant fails the check has its Image tag cleared, so the next plan redeploys it; healthy, apply converges', async () => {
    status.delete('initech');
    expect((await w.run(['apply', '--auto-approve'])).code).toBe(0);
    const before = (await w.instances(ORG.initech)).find((i) => tagsOf(i).Role === 'tenant')!;
    status.set('initech', 503);
    const res = await w.run(['apply', '--auto-approve', '--json', '--replace', 'initech', '--allow-replacements', '1', '--allow-terminations', '1']);
    expect(res.code).toBe(4);
    const cs = JSON.parse(res.stdout) as ChangeSet;
    expect(cs.results.filter((r) => r.target.slug === 'initech' && r.replacement).map((r) => [r.kind, r.status, r.failedOperation])).toEqual([
      ['delete', 'failed', 'health check'],
      ['create', 'failed', 'health check'],
    ]);
    const replaced = (await w.instances(ORG.initech)).find((i) => tagsOf(i).Role === 'tenant')!;
    expect(replaced.InstanceId).not.toBe(before.InstanceId);
    expect(tagsOf(replaced).Image).toBe('');
    const plan = JSON.parse((await w.run(['plan', '--json'])).stdout) as Plan;
    expect(plan.actions.map((a) => [a.kind, a.target.slug])).toEqual([['redeploy', 'initech']]);

    status.delete('initech');
    expect((await w.run(['apply', '--auto-approve'])).code).toBe(0);
    expect(tagsOf((await w.instances(ORG.initech)).find((i) => tagsOf(i).Role === 'tenant')!).Image).toBe('ghcr.io/example/platform:1.4.4');
    expect((await w.run(['plan', '--json'])).code).toBe(0);
  });
});
