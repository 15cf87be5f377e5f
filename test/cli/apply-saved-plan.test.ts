/**
 * A saved plan is self-sufficient (plan format 3): saved with `plan --out`, copied to another
 * directory, the fleet repository removed, and applied from there — against moto (behind the
 * fault proxy) and the Cloudflare double, through `main`; every outcome checked from outside with
 * SDK clients. Its deletes act on the ids the plan recorded.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
import { DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretName } from '../../src/contract.js';
import { ORG, startApplyWorld, tagsOf, ZONE, type ApplyWorld } from './apply-world.js';

const REPO_ROOT = new URL('../../', import.meta.url).pathname;

let w: ApplyWorld;
let elsewhere: string;
beforeAll(async () => {
  w = await startApplyWorld();
  elsewhere = mkdtempSync(join(tmpdir(), 'tenantform-elsewhere-'));
});
afterAll(async () => {
  await w?.close();
  rmSync(elsewhere, { recursive: true, force: true });
});

function removeFleetRepository(): void {
  rmSync(join(w.dir, 'fleet.yaml'));
  rmSync(join(w.dir, 'tenants'), { recursive: true });
}

function restoreFleetRepository(): void {
  cpSync(join(REPO_ROOT, 'fleet.yaml'), join(w.dir, 'fleet.yaml'));
  cpSync(join(REPO_ROOT, 'tenants'), join(w.dir, 'tenants'), { recursive: true });
}

async function groupsOf(orgId: string) {
  return (await w.check.ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'tag:OrgID', Values: [orgId] }] }))).SecurityGroups ?? [];
}

/** Instance ids in the TerminateInstances calls made since `from`. */
function terminatedSince(from: number): string[] {
  return w.aws.calls
    .slice(from)
    .filter((c) => c.action === 'TerminateInstances')
    .flatMap((c) =>
      Object.entries(c.params)
        .filter(([k]) => k.startsWith('InstanceId'))
        .map(([, v]) => String(v)),
    )
    .sort();
}

describe('apply a saved plan without the fleet repository', () => {
  it('applies a create plan copied to another directory after the fleet repository was removed, and everything exists', async () => {
    const saved = join(w.dir, 'create.json');
    expect((await w.run(['plan', '--out', saved])).code).toBe(2);
    const copy = join(elsewhere, 'create.json');
    cpSync(saved, copy);
    rmSync(saved);
    removeFleetRepository();
    // No intent carries a secret: none of the environment's values is in the file.
    const text = readFileSync(copy, 'utf8');
    for (const s of w.envSecrets) expect(text.includes(s)).toBe(false);

    const res = await w.run(['apply', 'create.json', '--auto-approve', '--repo', elsewhere], { io: { cwd: elsewhere } });
    expect(res.stderr).not.toMatch(/error/i);
    expect(res.code).toBe(0);
    expect(res.stderr).toContain('no fleet.yaml in');
    expect(res.stdout).toContain('Apply: 8 ok, 0 failed, 0 skipped');

    // From outside: every tenant's instance, group, bundle, record and tunnel, and the workspaces.
    const expected: Array<[string, string, number]> = [
      [ORG.acme, 'acme', 3],
      [ORG.globex, 'globex', 2],
      [ORG.initech, 'initech', 2],
      [ORG.umbrella, 'umbrella', 1],
    ];
    for (const [org, slug, instances] of expected) {
      const live = await w.instances(org);
      expect(live.map((i) => i.State?.Name).filter((s) => s === 'running' || s === 'pending' || s === 'stopped')).toHaveLength(instances);
      expect(live.find((i) => tagsOf(i).Role === 'tenant')?.InstanceType).toBeDefined();
      expect(await groupsOf(org)).toHaveLength(instances);
      const secret = await w.check.secrets.send(new DescribeSecretCommand({ SecretId: secretName('dev', org) }));
      expect(secret.DeletedDate).toBeUndefined();
      expect(w.cf.dnsRecords().filter((r) => r.name === `${slug}.tenants.${ZONE}`)).toHaveLength(1);
      expect(w.cf.tunnels().filter((t) => t.name.endsWith(`.${slug}.${org}`) && !t.deletedAt)).toHaveLength(1);
    }
    // The instances carry what the plan's intents said (tenant image and type from fleet.yaml, through the plan).
    const fleetText = readFileSync(join(REPO_ROOT, 'fleet.yaml'), 'utf8');
    const acmeTenant = (await w.instances(ORG.acme)).find((i) => tagsOf(i).Role === 'tenant')!;
    expect(fleetText).toContain(tagsOf(acmeTenant).Image!);
    expect(w.runs().at(-1)).toEqual({ status: 'succeeded', exit_code: 0, command: 'apply' });
  });

  it("a saved delete plan acts on the ids it recorded: a tenant cascade and a workspace's instance, nothing else", async () => {
    restoreFleetRepository();
    rmSync(join(w.dir, 'tenants', 'umbrella'), { recursive: true });
    rmSync(join(w.dir, 'tenants', 'initech', 'workspaces', 'analytics.yaml'));
    const saved = join(w.dir, 'delete.json');
    expect((await w.run(['plan', '--out', saved, '--allow-terminations', '5'])).code).toBe(2);
    const plan = JSON.parse(readFileSync(saved, 'utf8')) as {
      actions: Array<{ kind: string; target: { slug: string; kind: string }; steps: Array<{ resource: string; op: string; id?: string }>; intent: { kind: string } }>;
    };
    const deletes = plan.actions.filter((a) => a.kind === 'delete');
    expect(deletes.map((a) => `${a.target.kind} ${a.target.slug} ${a.intent.kind}`).sort()).toEqual([
      'tenant umbrella tenantDelete',
      'workspace initech workspaceDelete',
    ]);
    const recorded = deletes
      .flatMap((a) => a.steps)
      .filter((s) => s.resource === 'instance' && s.op === 'delete')
      .map((s) => s.id!)
      .sort();
    const recordedGroups = deletes
      .flatMap((a) => a.steps)
      .filter((s) => s.resource === 'securityGroup')
      .map((s) => s.id!)
      .sort();
    expect(recorded).toHaveLength(2);
    cpSync(saved, join(elsewhere, 'delete.json'));
    removeFleetRepository();

    const from = w.aws.calls.length;
    const res = await w.run(['apply', 'delete.json', '--auto-approve', '--allow-terminations', '5', '--repo', elsewhere], { io: { cwd: elsewhere } });
    expect(res.stderr).not.toMatch(/error/i);
    expect(res.code).toBe(0);
    // Exactly the recorded instances were terminated, and the recorded groups are gone.
    expect(terminatedSince(from)).toEqual(recorded);
    const deletedGroups = w.aws.calls
      .slice(from)
      .filter((c) => c.action === 'DeleteSecurityGroup')
      .map((c) => String(c.params.GroupId))
      .sort();
    expect([...new Set(deletedGroups)].sort()).toEqual(recordedGroups);
    // From outside: umbrella is gone, initech keeps its tenant instance and loses only analytics.
    expect(await w.instances(ORG.umbrella)).toEqual([]);
    expect(await groupsOf(ORG.umbrella)).toEqual([]);
    expect((await w.check.secrets.send(new DescribeSecretCommand({ SecretId: secretName('dev', ORG.umbrella) }))).DeletedDate).toBeDefined();
    expect(w.cf.dnsRecords().filter((r) => r.name === `umbrella.tenants.${ZONE}`)).toEqual([]);
    expect(w.cf.tunnels().filter((t) => t.name.endsWith(`.umbrella.${ORG.umbrella}`) && !t.deletedAt)).toEqual([]);
    expect((await w.instances(ORG.initech)).map((i) => tagsOf(i).Role)).toEqual(['tenant']);
    for (const org of [ORG.acme, ORG.globex]) expect((await w.instances(org)).length).toBeGreaterThan(0);
  });

  it('refuses a saved plan of format 2 with one line that says to re-plan, exit 1, changing nothing', async () => {
    const old = join(elsewhere, 'old.json');
    cpSync(join(elsewhere, 'delete.json'), old);
    const doc = JSON.parse(readFileSync(old, 'utf8')) as Record<string, unknown>;
    writeFileSync(old, JSON.stringify({ ...doc, formatVersion: 2 }));
    const traffic = w.mark();
    const res = await w.run(['apply', 'old.json', '--auto-approve', '--repo', elsewhere], { io: { cwd: elsewhere } });
    expect(res.code).toBe(1);
    expect(res.stderr.trim()).toBe(`error: read plan file ${old}: made by an older tenantform (plan format 2, this one reads 3); re-plan with this version`);
    expect(traffic()).toEqual({ aws: [], cf: [] });
  });
});
