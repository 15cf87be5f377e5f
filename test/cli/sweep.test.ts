/**
 * `tenantform sweep` against moto + the Cloudflare double: each orphan kind made from outside is
 * found (dry run: no mutating call), deleted by --delete and checked gone from outside; a
 * too-young, a protected, another environment's and an unmarked resource are left alone; lost
 * claims are reported; a sweep racing an apply is refused by the lock; bad input exits 1 and an
 * empty repository exits 3 with no call made; a failing delete exits 4.
 */
import { cpSync, mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTagsCommand, DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
import { DeleteSecretCommand, DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretName } from '../../src/contract.js';
import type { SweepReport } from '../../src/sweep/model.js';
import { ORG, startApplyWorld, type ApplyWorld } from './apply-world.js';
import { ageFirstSightings, allCalls, makeGroup, makeInstance, makeRecord, makeSecret, makeTunnel, marks, sweep } from './sweep-world.js';

const GHOST = '7a0c6a52-3b1e-4c8e-9a57-2d41e8a0c001';
const VAULT = '7a0c6a52-3b1e-4c8e-9a57-2d41e8a0c002';
const STAGING = '7a0c6a52-3b1e-4c8e-9a57-2d41e8a0c003';
const LOOSE = '7a0c6a52-3b1e-4c8e-9a57-2d41e8a0c004';
const FAILING = '7a0c6a52-3b1e-4c8e-9a57-2d41e8a0c005';
const LATE = '7a0c6a52-3b1e-4c8e-9a57-2d41e8a0c006';
const OTHER = '7a0c6a52-3b1e-4c8e-9a57-2d41e8a0c007';

const report = (stdout: string): SweepReport => JSON.parse(stdout) as SweepReport;
const verdictOf = (r: SweepReport, id: string) => r.orphans.find((o) => o.id === id)?.verdict;

async function groupExists(w: ApplyWorld, groupId: string): Promise<boolean> {
  const out = await w.check.ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-id', Values: [groupId] }] }));
  return (out.SecurityGroups ?? []).length > 0;
}

describe('tenantform sweep', () => {
  let w: ApplyWorld;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    w = await startApplyWorld();
    const applied = await w.run(['apply', '--auto-approve']);
    expect(applied.code).toBe(0);
  });
  afterAll(async () => {
    await w?.close();
  });

  it('finds nothing right after an apply (exit 0)', async () => {
    const res = await sweep(w, ['--min-age', '0s', '--json']);
    expect(res.stderr).toBe('');
    expect(report(res.stdout).orphans).toEqual([]);
    expect(report(res.stdout).lost).toEqual([]);
    expect(res.code).toBe(0);
  });

  it('a sweep --delete racing an apply is refused by the lock and changes nothing', async () => {
    let raced: Awaited<ReturnType<typeof sweep>> | undefined;
    let during: { aws: string[]; cf: string[] } | undefined;
    const applied = await w.run(['apply', '--auto-approve'], {
      deps: {
        onLocked: async () => {
          const traffic = w.mark();
          raced = await sweep(w, ['--delete', '--min-age', '0s']);
          during = traffic();
        },
      },
    });
    expect(raced?.code).toBe(3);
    expect(raced?.stderr).toMatch(/lock environment dev: held by run/);
    expect(during).toEqual({ aws: [], cf: [] });
    expect(applied.code).toBe(0);
  });

  it('a dry run finds every orphan kind made from outside and changes nothing (exit 2)', async () => {
    // An undeclared tenant: instance in its own group, bundle, tunnel and record.
    ids.ghostGroup = await makeGroup(w, `tenantform-dev-tenant-${GHOST}`, marks('dev', GHOST, 'ghost', 'tenant'));
    ids.ghostInstance = await makeInstance(w, marks('dev', GHOST, 'ghost', 'tenant'), ids.ghostGroup);
    await makeSecret(w, secretName('dev', GHOST), marks('dev', GHOST, 'ghost', 'tenant'));
    ids.ghostTunnel = await makeTunnel(w, 'dev', 'ghost', GHOST);
    ids.ghostRecord = await makeRecord(w, 'dev', 'ghost', GHOST, ids.ghostTunnel);
    // Partial leftovers of declared tenants.
    ids.goneWorkspace = await makeInstance(w, marks('dev', ORG.globex, 'globex', 'workspace', { WorkspaceID: 'ws-gone' }));
    // acme's tenant.yaml declares deletionProtection: its leftovers are protected too.
    ids.acmeGone = await makeInstance(w, marks('dev', ORG.acme, 'acme', 'workspace', { WorkspaceID: 'ws-gone' }));
    ids.unusedGroup = await makeGroup(w, 'globex-spare', marks('dev', ORG.globex, 'globex', 'tenant'));
    // A tunnel the org made under an earlier slug: no record points at it.
    ids.spareTunnel = await makeTunnel(w, 'dev', 'initech-old', ORG.initech);
    ids.danglingRecord = await makeRecord(w, 'dev', 'umbrella', ORG.umbrella, '00000000-dead-4bad-8bad-000000000000', `old-umbrella.tenants.example.dev`);
    // Left alone: protected, another environment's, unmarked.
    ids.protected = await makeInstance(w, marks('dev', VAULT, 'vault', 'tenant', { DeletionProtection: 'true' }));
    ids.staging = await makeInstance(w, marks('staging', STAGING, 'stage', 'tenant'));
    ids.stagingTunnel = await makeTunnel(w, 'staging', 'stage', STAGING);
    ids.unmarked = await makeInstance(w, { Env: 'dev', OrgID: LOOSE, OrgSlug: 'loose', Role: 'tenant' });
    await makeSecret(w, secretName('dev', LOOSE), {});

    const traffic = w.mark();
    const young = await sweep(w, ['--json']);
    expect(young.code).toBe(2);
    // Everything was just made or first seen: too young at the default 30 minutes.
    const youngReport = report(young.stdout);
    expect(youngReport.summary.deletable).toBe(0);
    expect(youngReport.orphans.filter((o) => o.verdict !== 'protected').every((o) => o.verdict === 'tooYoung')).toBe(true);

    const res = await sweep(w, ['--min-age', '0s', '--json']);
    expect(res.code).toBe(2);
    expect(traffic()).toEqual({ aws: [], cf: [] });
    const r = report(res.stdout);
    expect(r.formatVersion).toBe(1);
    expect(r.mode).toBe('dryRun');
    const found = Object.fromEntries(r.orphans.map((o) => [o.id, `${o.kind} ${o.reason} ${o.verdict}`]));
    expect(found).toMatchObject({
      [ids.ghostInstance]: 'instance undeclaredTenant delete',
      [ids.ghostGroup]: 'securityGroup undeclaredTenant delete',
      [secretName('dev', GHOST)]: 'secret undeclaredTenant delete',
      [ids.ghostTunnel]: 'tunnel undeclaredTenant delete',
      [ids.ghostRecord]: 'dnsRecord undeclaredTenant delete',
      [ids.goneWorkspace]: 'instance undeclaredWorkspace delete',
      [ids.unusedGroup]: 'securityGroup unusedSecurityGroup delete',
      [ids.spareTunnel]: 'tunnel tunnelWithoutRecord delete',
      [ids.danglingRecord]: 'dnsRecord recordWithoutTunnel delete',
      [ids.protected]: 'instance undeclaredTenant protected',
      [ids.acmeGone]: 'instance undeclaredWorkspace protected',
    });
    // Never listed: another environment's, and the unmarked instance and bundle.
    for (const id of [ids.staging, ids.stagingTunnel, ids.unmarked, secretName('dev', LOOSE)]) expect(found[id!]).toBeUndefined();
    expect(r.orphans).toHaveLength(11);

    const text = await sweep(w, ['--min-age', '0s']);
    expect(text.stdout).toContain('would delete');
    expect(text.stdout).toContain('tunnel with no DNS record');
    const mdOut = await sweep(w, ['--min-age', '0s', '--markdown']);
    expect(mdOut.stdout).toMatch(/^### tenantform sweep: dev \(dry run, min age 0s\)/);
  });

  it('the store’s first sighting ages a security group: old enough once seen long ago', async () => {
    ageFirstSightings(w);
    const res = await sweep(w, ['--json']);
    const r = report(res.stdout);
    expect(verdictOf(r, ids.unusedGroup!)).toBe('delete');
    expect(r.orphans.find((o) => o.id === ids.unusedGroup)?.ageSource).toBe('firstSeen');
    // An instance's age is its launch time, just now: still too young.
    expect(verdictOf(r, ids.goneWorkspace!)).toBe('tooYoung');
  });

  it('--delete removes the orphans in dependency order, leaves the rest, and records every delete', async () => {
    const res = await sweep(w, ['--delete', '--min-age', '0s', '--json']);
    const r = report(res.stdout);
    expect(r.orphans.filter((o) => o.verdict === 'failed')).toEqual([]);
    expect(res.code).toBe(2); // the protected instance is left
    expect(verdictOf(r, ids.protected!)).toBe('protected');

    const standing = ['pending', 'running', 'stopping', 'stopped'];
    expect(await w.instances(GHOST, standing)).toHaveLength(0);
    expect((await w.instances(ORG.globex, standing)).map((i) => i.InstanceId)).not.toContain(ids.goneWorkspace);
    expect(await groupExists(w, ids.ghostGroup!)).toBe(false);
    expect(await groupExists(w, ids.unusedGroup!)).toBe(false);
    const bundle = await w.check.secrets.send(new DescribeSecretCommand({ SecretId: secretName('dev', GHOST) })).catch(() => undefined);
    expect(bundle === undefined || bundle.DeletedDate !== undefined).toBe(true);
    const liveTunnels = w.cf.tunnels().filter((t) => !t.deletedAt);
    expect(liveTunnels.map((t) => t.id)).not.toContain(ids.ghostTunnel);
    expect(liveTunnels.map((t) => t.id)).not.toContain(ids.spareTunnel);
    expect(liveTunnels.map((t) => t.id)).toContain(ids.stagingTunnel);
    const records = w.cf.dnsRecords().map((x) => x.id);
    expect(records).not.toContain(ids.ghostRecord);
    expect(records).not.toContain(ids.danglingRecord);
    // Left alone.
    expect(await w.instances(VAULT, standing)).toHaveLength(1);
    expect(await w.instances(STAGING, standing)).toHaveLength(1);
    expect(await w.instances(LOOSE, standing)).toHaveLength(1);
    const loose = await w.check.secrets.send(new DescribeSecretCommand({ SecretId: secretName('dev', LOOSE) }));
    expect(loose.DeletedDate).toBeUndefined();
    // The declared fleet is untouched; acme's protected leftover stays.
    expect(await w.instances(ORG.acme, standing)).toHaveLength(4);
    expect(verdictOf(r, ids.acmeGone!)).toBe('protected');

    const deletedRows = new Set(
      w
        .auditRows()
        .filter((row) => row.state === 'deleted')
        .map((row) => row.resource_id),
    );
    for (const o of r.orphans.filter((x) => x.verdict === 'deleted')) expect(deletedRows).toContain(o.id);
    expect(r.orphans.filter((x) => x.verdict === 'deleted').map((o) => o.id)).toEqual(
      expect.arrayContaining([ids.goneWorkspace, ids.unusedGroup, ids.spareTunnel, ids.danglingRecord]),
    );
    expect(w.runs().some((run) => run.command === 'sweep' && run.status === 'succeeded' && run.exit_code === 2)).toBe(true);
    expect(w.auditText()).not.toMatch(new RegExp(w.envSecrets.join('|')));
  });

  it('a claim whose resource is gone is reported as lost and never acted on', async () => {
    await w.check.secrets.send(new DeleteSecretCommand({ SecretId: secretName('dev', ORG.umbrella), ForceDeleteWithoutRecovery: true }));
    const traffic = w.mark();
    const res = await sweep(w, ['--delete', '--min-age', '0s', '--json']);
    expect(res.code).toBe(2);
    const r = report(res.stdout);
    expect(r.lost).toEqual([expect.objectContaining({ kind: 'secret', id: secretName('dev', ORG.umbrella), orgId: ORG.umbrella })]);
    expect(traffic()).toEqual({ aws: [], cf: [] });
  });

  it('a delete failing (5xx from the fault proxy) exits 4 with a failed audit row; the rest still goes', async () => {
    const groupId = await makeGroup(w, `tenantform-dev-tenant-${FAILING}`, marks('dev', FAILING, 'failing', 'tenant'));
    const tunnelId = await makeTunnel(w, 'dev', 'failing', FAILING);
    const fault = w.aws.faults.inject({ kind: 'serverError', service: 'ec2', action: 'DeleteSecurityGroup', status: 500 });
    try {
      const res = await sweep(w, ['--delete', '--min-age', '0s', '--json']);
      expect(res.code).toBe(4);
      const r = report(res.stdout);
      expect(verdictOf(r, groupId)).toBe('failed');
      expect(verdictOf(r, tunnelId)).toBe('deleted');
    } finally {
      fault.remove();
    }
    expect(await groupExists(w, groupId)).toBe(true);
    expect(w.auditRows().some((row) => row.resource_id === groupId && row.state === 'failed')).toBe(true);
    expect(w.runs().some((run) => run.command === 'sweep' && run.status === 'partial' && run.exit_code === 4)).toBe(true);
  });

  it('a resource protected after the list was made is refused at the moment of deletion, not deleted', async () => {
    const lateInstance = await makeInstance(w, marks('dev', LATE, 'late', 'tenant'));
    const lateTunnel = await makeTunnel(w, 'dev', 'late', LATE);
    const otherTunnel = await makeTunnel(w, 'dev', 'other', OTHER);
    const dry = report((await sweep(w, ['--min-age', '0s', '--json'])).stdout);
    expect(verdictOf(dry, lateInstance)).toBe('delete');
    expect(verdictOf(dry, lateTunnel)).toBe('delete');

    // An operator protects the tenant after the sweep observed it and before it deletes anything.
    let tagged = false;
    const res = await sweep(w, ['--delete', '--min-age', '0s', '--json'], {
      deps: {
        onObserved: async () => {
          await w.check.ec2.send(new CreateTagsCommand({ Resources: [lateInstance], Tags: [{ Key: 'DeletionProtection', Value: 'true' }] }));
          tagged = true;
        },
      },
    });
    expect(tagged).toBe(true);
    const r = report(res.stdout);
    expect(res.code).toBe(2); // left: protected
    expect(verdictOf(r, lateInstance)).toBe('protected');
    expect(r.orphans.find((o) => o.id === lateInstance)?.error).toMatch(/DeletionProtection=true on instance .* \(read just now\)/);
    // The whole org is weighed, as the finder does: its tunnel is left too; another org's goes.
    expect(verdictOf(r, lateTunnel)).toBe('protected');
    expect(verdictOf(r, otherTunnel)).toBe('deleted');
    expect(r.summary.protected).toBeGreaterThanOrEqual(2);
    expect(res.stderr).toMatch(new RegExp(`sweep delete instance tenant late .*refused: live DeletionProtection=true on instance ${lateInstance}`));

    const standing = ['pending', 'running', 'stopping', 'stopped'];
    expect((await w.instances(LATE, standing)).map((i) => i.InstanceId)).toEqual([lateInstance]);
    const liveTunnels = w.cf
      .tunnels()
      .filter((t) => !t.deletedAt)
      .map((t) => t.id);
    expect(liveTunnels).toContain(lateTunnel);
    expect(liveTunnels).not.toContain(otherTunnel);
    expect(w.auditRows().some((row) => row.resource_id === lateInstance && row.state === 'deleted')).toBe(false);
  });

  it('bad input exits 1 with no call made: a bad --min-age, a broken fleet repository (file:line)', async () => {
    const calls = allCalls(w);
    const bad = await sweep(w, ['--min-age', 'soon']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--min-age: expected a duration/);

    const broken = mkdtempSync(join(tmpdir(), 'tenantform-sweep-broken-'));
    cpSync(join(w.dir, 'fleet.yaml'), join(broken, 'fleet.yaml'));
    cpSync(join(w.dir, 'tenants'), join(broken, 'tenants'), { recursive: true });
    writeFileSync(join(broken, 'tenants', 'acme', 'tenant.yaml'), 'apiVersion: tenantform.dev/v1\nkind: Tenant\nslug: acme\norgId: [not, an, id\n');
    const res = await sweep(w, ['--repo', broken, '--delete', '--min-age', '0s']);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/tenants\/acme\/tenant\.yaml:\d+/);
    expect(calls()).toBe(0);
  });

  it('an empty fleet repository is refused by the empty-source guard (exit 3), no call made', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'tenantform-sweep-empty-'));
    cpSync(join(w.dir, 'fleet.yaml'), join(empty, 'fleet.yaml'));
    mkdirSync(join(empty, 'tenants'));
    const calls = allCalls(w);
    for (const args of [
      ['--min-age', '0s'],
      ['--delete', '--min-age', '0s'],
    ]) {
      const res = await sweep(w, ['--repo', empty, ...args]);
      expect(res.code).toBe(3);
      expect(res.stderr).toMatch(/emptyDesired/);
    }
    expect(calls()).toBe(0);
  });
});
