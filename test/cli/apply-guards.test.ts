/**
 * Destruction past the guards (issue 8 items 0–2), end to end against moto (behind the fault
 * proxy) and the Cloudflare double, through `main`; every outcome checked from outside with SDK
 * clients. Scenarios build on one converged example fleet, in order.
 */
import { readFileSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeImagesCommand, DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
import { DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretName } from '../../src/contract.js';
import { ORG, startApplyWorld, tagsOf, ZONE, type ApplyWorld } from './apply-world.js';
import { readPlanDoc, writeForged } from './plan-forgery.js';

const REPO_ROOT = new URL('../../', import.meta.url).pathname;
const WS = { research: '0b8e4f7a-61c2-4d3e-8f90-a1b2c3d4e001', ops: '0b8e4f7a-61c2-4d3e-8f90-a1b2c3d4e003', analytics: '0b8e4f7a-61c2-4d3e-8f90-a1b2c3d4e004' };

let w: ApplyWorld;
beforeAll(async () => {
  w = await startApplyWorld();
});
afterAll(async () => {
  await w?.close();
});

async function acmeLive() {
  const instances = await w.instances(ORG.acme);
  const groups = (await w.check.ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'tag:OrgID', Values: [ORG.acme] }] }))).SecurityGroups ?? [];
  const secret = await w.check.secrets.send(new DescribeSecretCommand({ SecretId: secretName('dev', ORG.acme) }));
  const records = w.cf.dnsRecords().filter((r) => r.name === `acme.tenants.${ZONE}`);
  const tunnels = w.cf.tunnels().filter((t) => t.name.endsWith(`.acme.${ORG.acme}`) && !t.deletedAt);
  return { instances, groups, secret, records, tunnels };
}

/** acme is whole: 3 instances running, 3 groups, its bundle live, its record and tunnel there. */
async function expectAcmeWhole(): Promise<void> {
  const live = await acmeLive();
  expect(live.instances.map((i) => i.State?.Name)).toEqual(['running', 'running', 'running']);
  expect(live.groups).toHaveLength(3);
  expect(live.secret.DeletedDate).toBeUndefined();
  expect(live.records).toHaveLength(1);
  expect(live.tunnels).toHaveLength(1);
}

function editFleet(edit: (text: string) => string): void {
  const path = join(w.dir, 'fleet.yaml');
  writeFileSync(path, edit(readFileSync(path, 'utf8')));
}

function action(kind: 'delete' | 'create', target: Record<string, string>, steps: Record<string, string>[] = [], extra: Record<string, unknown> = {}) {
  const id = `${kind}:${target.kind}:${target.orgId}${target.workspaceId ? `:${target.workspaceId}` : ''}`;
  return { id, kind, target, steps, before: null, after: null, reason: 'added by hand', ...extra, intent: forgedIntent(kind, target, steps, extra.replacement === true) };
}

/** The intent a forger writes so the file reads back (it must agree with the action's target and steps). */
function forgedIntent(kind: 'delete' | 'create', target: Record<string, string>, steps: Record<string, string>[], replacement: boolean) {
  const { orgId, slug, workspaceId } = target as { orgId: string; slug: string; workspaceId?: string };
  const ids = (resource: string) => steps.filter((s) => s.resource === resource && s.op === 'delete').map((s) => s.id!);
  if (kind === 'create') {
    const tenant = {
      orgId,
      slug,
      instanceType: 't3.small',
      volumeGb: 30,
      ami: 'ami-0forged',
      image: 'ghcr.io/forged/platform:1',
      power: 'running',
      deletionProtection: false,
    };
    return { kind: 'tenant', tenant };
  }
  if (replacement) return { kind: 'instanceReplace', orgId, slug, ...(workspaceId ? { workspaceId } : {}), instanceIds: ids('instance') };
  if (workspaceId) return { kind: 'workspaceDelete', cascade: { orgId, slug, workspaceId, instances: ids('instance'), securityGroups: ids('securityGroup') } };
  const withIds = (resource: string) => ids(resource).map((id) => ({ id }));
  const named = (resource: string) => ids(resource).map((id) => ({ id, name: id }));
  return {
    kind: 'tenantDelete',
    cascade: {
      orgId,
      slug,
      instances: withIds('instance'),
      securityGroups: withIds('securityGroup'),
      secrets: ids('secret'),
      dnsRecords: named('dnsRecord'),
      tunnels: named('tunnel'),
    },
  };
}

const acmeTarget = { kind: 'tenant', orgId: ORG.acme, slug: 'acme' };

describe('a saved plan edited by hand, and the guards apply re-derives', () => {
  const planFile = () => join(w.dir, 'converged.json');
  const forgedFile = () => join(w.dir, 'forged.json');

  it("converges the example fleet; a protected tenant's workspaces carry DeletionProtection=true, others false", async () => {
    const res = await w.run(['apply', '--auto-approve']);
    expect(res.code).toBe(0);
    for (const [org, want] of [
      [ORG.acme, 'true'],
      [ORG.globex, 'false'],
    ] as const) {
      const instances = (await w.instances(org)).filter((i) => tagsOf(i).Role === 'workspace');
      expect(instances.length).toBeGreaterThan(0);
      for (const i of instances) expect(tagsOf(i).DeletionProtection).toBe(want);
      const groups = (
        await w.check.ec2.send(
          new DescribeSecurityGroupsCommand({
            Filters: [
              { Name: 'tag:OrgID', Values: [org] },
              { Name: 'tag:Role', Values: ['workspace'] },
            ],
          }),
        )
      ).SecurityGroups!;
      expect(groups.length).toBe(instances.length);
      for (const g of groups) expect(tagsOf(g).DeletionProtection).toBe(want);
    }
    expect((await w.run(['plan', '--out', planFile()])).code).toBe(0);
  });

  it('an added delete of acme with the old digest is refused as an edited file: exit 1, one line, nothing touched', async () => {
    const doc = readPlanDoc(planFile());
    doc.actions.push(action('delete', acmeTarget));
    writeForged(forgedFile(), doc, { keepDigest: true });
    const traffic = w.mark();
    const res = await w.run(['apply', forgedFile(), '--auto-approve']);
    expect(res.code).toBe(1);
    // The fleet copy is not a git work tree: apply notes that it records no commit, then the one error line.
    expect(
      res.stderr
        .trim()
        .split('\n')
        .filter((l) => !l.startsWith('note: ')),
    ).toEqual([`error: read plan file ${forgedFile()}: its digest does not match its content: the file was truncated or edited; re-run plan`]);
    expect(traffic()).toEqual({ aws: [], cf: [] });
    await expectAcmeWhole();
  });

  it('with the digest recomputed, the delete of declared, protected acme is refused by the re-checked guards: exit 3', async () => {
    const doc = readPlanDoc(planFile());
    doc.actions.push(action('delete', acmeTarget));
    writeForged(forgedFile(), doc);
    const traffic = w.mark();
    const res = await w.run(['apply', forgedFile(), '--auto-approve']);
    expect(res.code).toBe(3);
    expect(res.stderr).toMatch(/deletionProtection: tenant acme \(org [^)]+\): its live resources carry DeletionProtection=true; its delete is refused/);
    expect(res.stderr).toMatch(/declared: tenant acme .* is still declared in the fleet repository \(tenants\/acme\/tenant\.yaml\)/);
    expect(traffic()).toEqual({ aws: [], cf: [] });
    await expectAcmeWhole();
  });

  it("a forged delete of acme's declared workspace, and a forged replacement of its instance, are refused too", async () => {
    const tenantInstance = (await w.instances(ORG.acme)).find((i) => tagsOf(i).Role === 'tenant')!.InstanceId!;
    const forgeries = [
      [action('delete', { kind: 'workspace', orgId: ORG.acme, slug: 'acme', workspaceId: WS.research })],
      [
        action('delete', acmeTarget, [{ resource: 'instance', op: 'delete', id: tenantInstance }], { replacement: true }),
        action('create', acmeTarget, [{ resource: 'instance', op: 'create' }], { replacement: true }),
      ],
    ];
    for (const added of forgeries) {
      const doc = readPlanDoc(planFile());
      doc.actions.push(...added);
      writeForged(forgedFile(), doc);
      const traffic = w.mark();
      const res = await w.run(['apply', forgedFile(), '--auto-approve']);
      expect(res.code).toBe(3);
      expect(res.stderr).toContain('deletionProtection: ');
      expect(traffic()).toEqual({ aws: [], cf: [] });
    }
    await expectAcmeWhole();
  });

  it('terminations a forged plan adds are counted from its actions against guards.maxTerminations', async () => {
    editFleet((t) => t.replace('maxDeletes: 3', 'maxDeletes: 3\n  maxTerminations: 1'));
    expect((await w.run(['plan', '--out', planFile()])).code).toBe(0);
    const ids = async (org: string) => (await w.instances(org)).find((i) => tagsOf(i).Role === 'workspace')!.InstanceId!;
    const [ops, analytics] = [await ids(ORG.globex), await ids(ORG.initech)];
    const doc = readPlanDoc(planFile());
    doc.actions.push(
      action('delete', { kind: 'workspace', orgId: ORG.globex, slug: 'globex', workspaceId: WS.ops }, [{ resource: 'instance', op: 'delete', id: ops }], {
        replacement: true,
      }),
      action('delete', { kind: 'workspace', orgId: ORG.initech, slug: 'initech', workspaceId: WS.analytics }, [{ resource: 'instance', op: 'delete', id: analytics }], {
        replacement: true,
      }),
    );
    writeForged(forgedFile(), doc);
    const traffic = w.mark();
    const res = await w.run(['apply', forgedFile(), '--auto-approve']);
    expect(res.code).toBe(3);
    expect(res.stderr).toContain(
      'maxTerminations: 2 instance terminations outside a tenant cascade (workspace deletes and replacements) exceed guards.maxTerminations (1)',
    );
    expect(traffic()).toEqual({ aws: [], cf: [] });
    expect((await w.instances(ORG.globex)).map((i) => i.InstanceId)).toContain(ops);
    expect((await w.instances(ORG.initech)).map((i) => i.InstanceId)).toContain(analytics);
  });
});

describe('workspace deletes are guarded', () => {
  it('removing a workspace of protected acme is refused in plan and apply: exit 3, nothing terminated', async () => {
    const file = join(w.dir, 'tenants', 'acme', 'workspaces', 'research.yaml');
    rmSync(file);
    const plan = await w.run(['plan']);
    expect(plan.code).toBe(3);
    expect(plan.stdout).toMatch(/deletionProtection: workspace 0b8e4f7a-61c2-4d3e-8f90-a1b2c3d4e001 of tenant acme .*its tenant acme is protected/);
    const traffic = w.mark();
    const res = await w.run(['apply', '--auto-approve', '--allow-terminations', '10']);
    expect(res.code).toBe(3);
    expect(traffic()).toEqual({ aws: [], cf: [] });
    cpSync(join(REPO_ROOT, 'tenants', 'acme', 'workspaces', 'research.yaml'), file);
    await expectAcmeWhole();
  });

  it('workspace deletes over guards.maxTerminations are refused unless --allow-terminations covers them', async () => {
    rmSync(join(w.dir, 'tenants', 'globex', 'workspaces', 'ops.yaml'));
    rmSync(join(w.dir, 'tenants', 'initech', 'workspaces', 'analytics.yaml'));
    expect((await w.run(['plan'])).code).toBe(3);
    const traffic = w.mark();
    const refused = await w.run(['apply', '--auto-approve']);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain(
      '2 instance terminations outside a tenant cascade (workspace deletes and replacements) exceed guards.maxTerminations (1); pass --allow-terminations 2',
    );
    expect((await w.run(['apply', '--auto-approve', '--allow-terminations', '1'])).code).toBe(3);
    expect(traffic()).toEqual({ aws: [], cf: [] });
    expect((await w.run(['plan', '--allow-terminations', '2'])).code).toBe(2);

    const allowed = await w.run(['apply', '--auto-approve', '--allow-terminations', '2']);
    expect(allowed.code).toBe(0);
    for (const org of [ORG.globex, ORG.initech]) expect((await w.instances(org)).filter((i) => tagsOf(i).Role === 'workspace')).toEqual([]);
    cpSync(join(REPO_ROOT, 'tenants', 'globex', 'workspaces'), join(w.dir, 'tenants', 'globex', 'workspaces'), { recursive: true });
    cpSync(join(REPO_ROOT, 'tenants', 'initech', 'workspaces'), join(w.dir, 'tenants', 'initech', 'workspaces'), { recursive: true });
    expect((await w.run(['apply', '--auto-approve'])).code).toBe(0);
  });
});

describe('an AMI change replaces nothing unless asked', () => {
  let newAmi = '';

  it('a new defaultAmi is a notice, exit 0, and apply makes no mutating call', async () => {
    const current = /defaultAmi: (\S+)/.exec(readFileSync(join(w.dir, 'fleet.yaml'), 'utf8'))![1]!;
    const images = (await w.check.ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }))).Images ?? [];
    newAmi = images
      .map((i) => i.ImageId!)
      .filter((id) => id && id !== current)
      .sort()[0]!;
    editFleet((t) => t.replace(`defaultAmi: ${current}`, `defaultAmi: ${newAmi}`));

    const plan = await w.run(['plan']);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/\d+ instances run an older AMI than declared \(.*initech.*\)/);
    expect(plan.stdout).not.toContain('replace (delete)');
    const traffic = w.mark();
    const res = await w.run(['apply', '--auto-approve']);
    expect(res.code).toBe(0);
    expect(traffic()).toEqual({ aws: [], cf: [] });
  });

  it('plan --replace <slug> --out carries the replacement; applying it relaunches on the new AMI', async () => {
    const before = (await w.instances(ORG.initech)).find((i) => tagsOf(i).Role === 'tenant')!;
    const file = join(w.dir, 'replace.json');
    const plan = await w.run(['plan', '--replace', 'initech', '--out', file]);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain('replace (delete)');
    expect(readPlanDoc(file).basis).toMatchObject({ replace: ['initech'] });
    const res = await w.run(['apply', file, '--auto-approve']);
    expect(res.code).toBe(0);
    const after = (await w.instances(ORG.initech)).find((i) => tagsOf(i).Role === 'tenant')!;
    expect(after.InstanceId).not.toBe(before.InstanceId);
    expect(after.ImageId).toBe(newAmi);
    expect((await w.instances(ORG.initech, ['terminated'])).map((i) => i.InstanceId)).toContain(before.InstanceId);
  });

  it('apply --replace <slug>/<workspace> replaces that workspace only', async () => {
    const before = (await w.instances(ORG.globex)).find((i) => tagsOf(i).Role === 'workspace')!;
    const tenantBefore = (await w.instances(ORG.globex)).find((i) => tagsOf(i).Role === 'tenant')!;
    const res = await w.run(['apply', '--replace', 'globex/ops', '--auto-approve']);
    expect(res.code).toBe(0);
    const now = await w.instances(ORG.globex);
    const after = now.find((i) => tagsOf(i).Role === 'workspace')!;
    expect(after.InstanceId).not.toBe(before.InstanceId);
    expect(after.State?.Name).toBe('stopped'); // declared stopped, so the new one ends stopped too
    expect(now.find((i) => tagsOf(i).Role === 'tenant')!.InstanceId).toBe(tenantBefore.InstanceId);
  });

  it('--replace of a protected tenant is refused (exit 3), of an unknown one is bad input (exit 1), and with a plan file it is bad input', async () => {
    const traffic = w.mark();
    const prot = await w.run(['apply', '--replace', 'acme', '--auto-approve']);
    expect(prot.code).toBe(3);
    expect(prot.stderr).toMatch(/deletionProtection: tenant acme .*replacing its instance is refused/);
    const unknown = await w.run(['apply', '--replace', 'nobody', '--auto-approve']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('--replace: nobody: no such tenant or workspace is declared');
    const withFile = await w.run(['apply', join(w.dir, 'replace.json'), '--replace', 'initech', '--auto-approve']);
    expect(withFile.code).toBe(1);
    expect(withFile.stderr).toContain('a saved plan already says what it replaces');
    expect(traffic()).toEqual({ aws: [], cf: [] });
    await expectAcmeWhole();
  });
});
