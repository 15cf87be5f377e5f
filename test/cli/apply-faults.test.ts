/**
 * apply under injected faults: throttling is absorbed, a persistently failing tenant fails alone
 * (exit 4) and the next apply converges, and a canary whose redeploy fails halts the rollout.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChangeSet } from '../../src/apply/changeset.js';
import { ORG, startApplyWorld, tagsOf, type ApplyWorld } from './apply-world.js';

const HOOLI = { slug: 'hooli', orgId: '7a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c01', workspaceId: '7a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3d01' };
const WAYNE = { slug: 'wayne', orgId: '7a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c02' };

function addTenant(w: ApplyWorld, t: { slug: string; orgId: string; workspaceId?: string }): void {
  const dir = join(w.dir, 'tenants', t.slug);
  mkdirSync(join(dir, 'workspaces'), { recursive: true });
  writeFileSync(join(dir, 'tenant.yaml'), `apiVersion: tenantform.dev/v1\nkind: Tenant\nslug: ${t.slug}\norgId: ${t.orgId}\n`);
  if (t.workspaceId) {
    writeFileSync(join(dir, 'workspaces', 'lab.yaml'), `apiVersion: tenantform.dev/v1\nkind: Workspace\nid: ${t.workspaceId}\nruntime: claude-code\ntier: T4\n`);
  }
}

function changeSetOf(stdout: string): ChangeSet {
  return JSON.parse(stdout) as ChangeSet;
}

function outcomes(cs: ChangeSet): string[] {
  return cs.results.map(
    (r) => `${r.kind} ${r.target.slug}${r.target.workspaceName ? `/${r.target.workspaceName}` : ''} ${r.status}${r.skipped ? ` (${r.skipped.reason})` : ''}`,
  );
}

describe('apply under faults', () => {
  let w: ApplyWorld;
  beforeAll(async () => {
    w = await startApplyWorld();
  });
  afterAll(async () => {
    await w?.close();
  });

  it('throttling on RunInstances and a Cloudflare 429 slow the run down but never fail it', async () => {
    const throttle = w.aws.faults.inject({ kind: 'throttle', service: 'ec2', action: 'RunInstances', count: 6 });
    w.cf.faults.add({ kind: 'rate-limit', method: 'POST', path: /\/cfd_tunnel$/, times: 2, retryAfterSeconds: 2 });
    const res = await w.run(['apply', '--auto-approve', '--json']);
    expect(res.stderr).not.toContain('✗');
    expect(res.code).toBe(0);
    expect(changeSetOf(res.stdout).summary).toEqual({ ok: 8, failed: 0, skipped: 0 });
    expect(throttle.hits).toBe(6);
    expect(w.cf.requests.filter((r) => r.status === 429)).toHaveLength(2);
    // Exactly one tunnel per tenant: the throttled creates were retried, not duplicated.
    expect(w.cf.tunnels().filter((t) => !t.deletedAt)).toHaveLength(4);
    throttle.remove();
  });

  it('lost responses after commit and dropped connections converge without duplicates', async () => {
    const stark = { slug: 'stark', orgId: '7a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c03' };
    addTenant(w, stark);
    w.cf.faults.add({ kind: 'commit-then-drop', method: 'POST', path: /\/cfd_tunnel$/ });
    w.cf.faults.add({ kind: 'commit-then-drop', method: 'POST', path: /\/dns_records$/ });
    const lost = w.aws.faults.inject({ kind: 'lostResponse', service: 'ec2', action: 'RunInstances', count: 1 });
    const dropped = w.aws.faults.inject({ kind: 'dropConnection', service: 'secretsmanager', action: 'CreateSecret', count: 1 });
    const res = await w.run(['apply', '--auto-approve', '--json']);
    expect(res.code).toBe(0);
    expect(outcomes(changeSetOf(res.stdout))).toEqual(['create stark ok']);
    expect(lost.hits + dropped.hits).toBe(2);
    expect(w.cf.tunnels().filter((t) => !t.deletedAt && t.name.includes(stark.orgId))).toHaveLength(1);
    expect(w.cf.dnsRecords().filter((r) => r.name.startsWith('stark.'))).toHaveLength(1);
    expect(await w.instances(stark.orgId)).toHaveLength(1);
    const traffic = w.mark();
    expect((await w.run(['apply', '--auto-approve'])).code).toBe(0);
    expect(traffic()).toEqual({ aws: [], cf: [] });
  });

  it('a tenant that keeps failing with 5xx fails alone (exit 4) and the next apply converges', async () => {
    addTenant(w, HOOLI);
    addTenant(w, WAYNE);
    const fault = w.aws.faults.inject({
      kind: 'serverError',
      service: 'ec2',
      action: 'CreateSecurityGroup',
      when: (req) => (req.form.get('GroupName') ?? '').includes(HOOLI.orgId),
    });
    const res = await w.run(['apply', '--auto-approve', '--json']);
    expect(res.code).toBe(4);
    const cs = changeSetOf(res.stdout);
    expect(outcomes(cs)).toEqual(['create hooli failed', 'create hooli/lab skipped (dependency)', 'create wayne ok']);
    expect(cs.results[0]!.error).toMatch(/CreateSecurityGroup/);
    expect(res.stderr).toMatch(/✗ create tenant hooli .*CreateSecurityGroup/);
    expect(await w.instances(WAYNE.orgId)).toHaveLength(1);
    expect(w.runs().at(-1)).toEqual({ status: 'partial', exit_code: 4, command: 'apply' });
    expect(w.auditRows().some((r) => r.org_id === HOOLI.orgId && r.state === 'failed' && r.kind === 'securityGroup')).toBe(true);

    fault.remove();
    const retry = await w.run(['apply', '--auto-approve', '--json']);
    expect(retry.code).toBe(0);
    expect(outcomes(changeSetOf(retry.stdout))).toEqual(['repair hooli ok', 'create hooli/lab ok']);
    const traffic = w.mark();
    expect((await w.run(['apply', '--auto-approve'])).code).toBe(0);
    expect(traffic()).toEqual({ aws: [], cf: [] });
  });

  it('a canary whose redeploy fails halts the rollout: later waves do not run, exit 4', async () => {
    const fleetFile = join(w.dir, 'fleet.yaml');
    writeFileSync(
      fleetFile,
      readFileSync(fleetFile, 'utf8')
        .replace('platform:1.5.0-rc.1', 'platform:1.5.0-rc.2')
        .replace('tenantImage: ghcr.io/example/platform:1.4.2', 'tenantImage: ghcr.io/example/platform:1.4.3'),
    );
    const acme = (await w.instances(ORG.acme)).find((i) => tagsOf(i).Role === 'tenant')!;
    const failing = w.aws.faults.ssm.fail({ instanceIds: [acme.InstanceId!] });

    const res = await w.run(['apply', '--auto-approve', '--json']);
    expect(res.code).toBe(4);
    const cs = changeSetOf(res.stdout);
    expect(cs.rollout.halted).toBe(true);
    expect(cs.rollout.waves).toEqual([{ wave: 0, actions: 1, failed: 1, failureRatio: 1, halted: true }]);
    const redeploys = cs.results.filter((r) => r.kind === 'redeploy');
    expect(redeploys.map((r) => `${r.target.slug} ${r.status}${r.skipped ? ` (${r.skipped.reason})` : ''}`)).toEqual([
      'acme failed',
      'globex skipped (halted)',
      'hooli skipped (halted)',
      'initech skipped (halted)',
      'stark skipped (halted)',
      'umbrella skipped (halted)',
      'wayne skipped (halted)',
    ]);
    expect(redeploys[0]!.error).toContain('Failed');
    const globex = (await w.instances(ORG.globex)).find((i) => tagsOf(i).Role === 'tenant')!;
    expect(tagsOf(globex).Image).toBe('ghcr.io/example/platform:1.4.2');

    failing.remove();
    const retry = await w.run(['apply', '--auto-approve', '--json']);
    expect(retry.code).toBe(0);
    // Canaries, then batches: 1 of the 6 others, 25% of the 5 left (2), then the remaining 3.
    const waves = changeSetOf(retry.stdout).rollout.waves;
    expect(waves.map((x) => `${x.wave}:${x.actions}`)).toEqual(['0:1', '1:1', '2:2', '3:3']);
    expect(tagsOf((await w.instances(ORG.globex)).find((i) => tagsOf(i).Role === 'tenant')!).Image).toBe('ghcr.io/example/platform:1.4.3');
    expect(tagsOf((await w.instances(ORG.acme)).find((i) => tagsOf(i).Role === 'tenant')!).Image).toBe('ghcr.io/example/platform:1.5.0-rc.2');
    // The stopped tenant was started for its redeploy and stopped again.
    expect((await w.instances(ORG.umbrella)).map((i) => i.State?.Name)).toEqual(['stopped']);
  });
});
