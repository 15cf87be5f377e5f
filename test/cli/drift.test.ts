/**
 * `tenantform drift` end to end: the example fleet applied to moto (behind the fault proxy) and
 * the Cloudflare double, then drift made from outside with the SDK clients directly, as an
 * operator's console would, and detected with the right severity.
 */
import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateTagsCommand,
  DescribeSecurityGroupsCommand,
  DescribeVolumesCommand,
  ModifyInstanceAttributeCommand,
  ModifyVolumeCommand,
  RevokeSecurityGroupIngressCommand,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import { DeleteSecretCommand, GetSecretValueCommand, PutSecretValueCommand, TagResourceCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driftCommandWith } from '../../src/cli/drift.js';
import { memoryIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { secretName } from '../../src/contract.js';
import { openAuditStore } from '../../src/store/index.js';
import { virtualClock } from '../apply/harness.js';
import type { DriftFinding, DriftResult } from '../../src/drift/model.js';
import { sdkFor } from '../contract/cloudflare-sdk.js';
import { ORG, startApplyWorld, tagsOf, ZONE, type ApplyWorld } from './apply-world.js';

const HOST = (slug: string) => `${slug}.tenants.${ZONE}`;

describe('tenantform drift', () => {
  let w: ApplyWorld;
  let db: string;
  /** Every value a bundle holds, to hunt for in the output. */
  const bundleValues: string[] = [];
  beforeAll(async () => {
    w = await startApplyWorld();
    // The audit database apply uses: the rotation marks live beside its runs, and --fix takes the same lock.
    db = w.db;
    const res = await w.run(['apply', '--auto-approve']);
    expect(res.code).toBe(0);
    for (const orgId of Object.values(ORG)) {
      const v = await w.check.secrets.send(new GetSecretValueCommand({ SecretId: secretName('dev', orgId) }));
      const bundle = JSON.parse(v.SecretString ?? '{}') as Record<string, string>;
      for (const key of ['DB_PASSWORD', 'ADMIN_TOKEN', 'TUNNEL_TOKEN', 'SECRETS_ENCRYPTION_KEY', 'PROVISION_SHARED_SECRET', 'GHCR_PULL_TOKEN'])
        bundleValues.push(bundle[key]!);
    }
    expect(bundleValues.every((x) => typeof x === 'string' && x.length >= 16)).toBe(true);
  });
  afterAll(async () => {
    await w?.close();
  });

  const drift = async (args: string[] = [], dbPath = db) => {
    const res = await w.run(['drift', '--db', dbPath, ...args]);
    for (const s of [...w.envSecrets, ...bundleValues]) {
      expect(res.stdout).not.toContain(s);
      expect(res.stderr).not.toContain(s);
    }
    return res;
  };
  const driftJson = async (args: string[] = [], dbPath = db): Promise<{ code: number; result: DriftResult }> => {
    const res = await drift(['--json', ...args], dbPath);
    return { code: res.code, result: JSON.parse(res.stdout) as DriftResult };
  };
  const tenantInstance = async (orgId: string) => (await w.instances(orgId)).find((i) => tagsOf(i).Role === 'tenant')!;
  const workspaceInstance = async (orgId: string) => (await w.instances(orgId)).find((i) => tagsOf(i).Role === 'workspace')!;
  const tenantGroup = async (orgId: string) =>
    ((
      await w.check.ec2.send(
        new DescribeSecurityGroupsCommand({
          Filters: [
            { Name: 'tag:OrgID', Values: [orgId] },
            { Name: 'tag:Role', Values: ['tenant'] },
          ],
        }),
      )
    ).SecurityGroups ?? [])[0]!;

  it('a freshly applied fleet has no drift: exit 0, every tenant deep-checked, no mutating call', async () => {
    const traffic = w.mark();
    const { code, result } = await driftJson();
    expect(result.findings).toEqual([]);
    expect(code).toBe(0);
    expect(result.version).toBe(1);
    expect(result.deep.checked.sort()).toEqual(['acme', 'globex', 'initech', 'umbrella']);
    expect(result.deep.pending).toEqual([]);
    // One configuration GET per tunnel, one bundle read per bundle.
    expect(result.calls.deep).toMatchObject({ cloudflare: 4, secretsmanager: 4 });
    expect(traffic()).toEqual({ aws: [], cf: [] });
    const text = await drift();
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('No drift in 4 tenants.');
  });

  it('--budget rotation covers the fleet in ⌈N/budget⌉ runs, stalest first, no tenant twice before all once', async () => {
    for (const budget of [1, 3]) {
      const rotationDb = join(w.dir, `rotation-${budget}.db`);
      const runs = Math.ceil(4 / budget);
      const seen: string[] = [];
      for (let i = 0; i < runs; i++) {
        const { code, result } = await driftJson(['--budget', String(budget)], rotationDb);
        expect(code).toBe(0);
        expect(result.calls.deep.cloudflare).toBeLessThanOrEqual(budget);
        expect(result.calls.deep.secretsmanager).toBeLessThanOrEqual(budget);
        // The budget is spent on never-checked tenants first; what it leaves goes to the stalest.
        expect(result.deep.checked.length).toBe(budget);
        const fresh = result.deep.checked.slice(0, Math.min(budget, 4 - seen.length));
        for (const s of fresh) expect(seen).not.toContain(s);
        for (const s of result.deep.checked.slice(fresh.length)) expect(seen).toContain(s);
        seen.push(...fresh);
        // Pending: every tenant not deep-checked in this run, the never-checked ones first.
        expect([...result.deep.pending].sort()).toEqual(['acme', 'globex', 'initech', 'umbrella'].filter((s) => !result.deep.checked.includes(s)));
        const never = ['acme', 'globex', 'initech', 'umbrella'].filter((s) => !seen.includes(s));
        expect(result.deep.pending.slice(0, never.length).sort()).toEqual(never);
      }
      expect(seen.sort()).toEqual(['acme', 'globex', 'initech', 'umbrella']);
      // The next run starts the rotation again with the stalest.
      const again = await driftJson(['--budget', String(budget)], rotationDb);
      expect(again.result.deep.checked[0]).toBe(budget === 1 ? 'acme' : 'initech');
      expect(seen).toHaveLength(4);
    }
  });

  it('bad input exits 1 and makes no call: a broken fleet repository (with file:line), a bad --budget', async () => {
    const awsBefore = w.aws.calls.length;
    const cfBefore = w.cf.requests.length;
    const bad = await drift(['--budget', '0']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--budget/);
    const path = join(w.dir, 'tenants', 'acme', 'tenant.yaml');
    const { readFileSync } = await import('node:fs');
    const original = readFileSync(path, 'utf8');
    writeFileSync(path, `${original}\npower: sideways\n`);
    try {
      const broken = await drift();
      expect(broken.code).toBe(1);
      expect(broken.stderr).toMatch(/tenants\/acme\/tenant\.yaml:\d+/);
    } finally {
      writeFileSync(path, original);
    }
    expect(w.aws.calls.length).toBe(awsBefore);
    expect(w.cf.requests.length).toBe(cfBefore);
  });

  let umbrellaBundle = '';
  describe('drift made from outside', () => {
    let result: DriftResult;
    let code: number;
    let text: string;
    let markdown: string;
    const ids: Record<string, string> = {};
    beforeAll(async () => {
      const cf = sdkFor(w.cf, 2);
      const accountId = w.env.CLOUDFLARE_ACCOUNT_ID!;
      const zoneId = w.env.CLOUDFLARE_ZONE_ID!;
      // acme's group: the platform port revoked, tcp/22 opened to the world.
      const group = await tenantGroup(ORG.acme);
      ids.acmeGroup = group.GroupId!;
      const platform = group.IpPermissions!.find((p) => p.FromPort === 8080)!;
      await w.check.ec2.send(
        new RevokeSecurityGroupIngressCommand({
          GroupId: group.GroupId,
          IpPermissions: [{ IpProtocol: 'tcp', FromPort: 8080, ToPort: 8080, IpRanges: platform.IpRanges!.map((r) => ({ CidrIp: r.CidrIp })) }],
        }),
      );
      await w.check.ec2.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: group.GroupId,
          IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
        }),
      );
      // acme's tunnel ingress sent elsewhere.
      const acmeTunnel = w.cf.tunnels().find((t) => t.name.endsWith(`.acme.${ORG.acme}`) && !t.deletedAt)!;
      ids.acmeTunnel = acmeTunnel.id;
      await cf.zeroTrust.tunnels.cloudflared.configurations.update(acmeTunnel.id, {
        account_id: accountId,
        config: {
          ingress: [
            { hostname: HOST('acme'), service: 'http://evil:80' },
            { hostname: '', service: 'http_status:404' },
          ],
        },
      });
      // acme's bundle scheduled for deletion.
      await w.check.secrets.send(new DeleteSecretCommand({ SecretId: secretName('dev', ORG.acme), RecoveryWindowInDays: 7 }));
      // globex's record: content, proxying and TTL changed.
      const globexRecord = w.cf.dnsRecords().find((r) => r.name === HOST('globex'))!;
      ids.globexRecord = globexRecord.id;
      await cf.dns.records.edit(globexRecord.id, { zone_id: zoneId, type: 'CNAME', name: HOST('globex'), content: 'elsewhere.example.net', proxied: false, ttl: 300 });
      // globex's workspace: a contract tag changed and a smaller instance type (it is stopped).
      const ops = await workspaceInstance(ORG.globex);
      ids.globexOps = ops.InstanceId!;
      await w.check.ec2.send(new CreateTagsCommand({ Resources: [ops.InstanceId!], Tags: [{ Key: 'Tier', Value: 'T9' }] }));
      await w.check.ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: ops.InstanceId, InstanceType: { Value: 't3.micro' } }));
      // initech's tunnel deleted while its record still points at it; its instance stopped.
      const initechTunnel = w.cf.tunnels().find((t) => t.name.endsWith(`.initech.${ORG.initech}`) && !t.deletedAt)!;
      ids.initechTunnel = initechTunnel.id;
      await cf.zeroTrust.tunnels.cloudflared.delete(initechTunnel.id, { account_id: accountId });
      const initech = await tenantInstance(ORG.initech);
      ids.initechInstance = initech.InstanceId!;
      await w.check.ec2.send(new StopInstancesCommand({ InstanceIds: [initech.InstanceId!] }));
      // umbrella's bundle replaced by {} (its value kept here to put back by hand, as an operator would).
      umbrellaBundle = (await w.check.secrets.send(new GetSecretValueCommand({ SecretId: secretName('dev', ORG.umbrella) }))).SecretString!;
      await w.check.secrets.send(new PutSecretValueCommand({ SecretId: secretName('dev', ORG.umbrella), SecretString: '{}' }));

      const traffic = w.mark();
      ({ code, result } = await driftJson());
      text = (await drift()).stdout;
      markdown = (await drift(['--markdown'])).stdout;
      expect(traffic()).toEqual({ aws: [], cf: [] });
    });

    const find = (code: DriftFinding['code'], slug: string) => result.findings.filter((f) => f.code === code && f.slug === slug);

    it('exits 2 and lists security findings first', () => {
      expect(code).toBe(2);
      const firstDrift = result.findings.findIndex((f) => f.severity === 'drift');
      expect(firstDrift).toBeGreaterThan(0);
      expect(result.findings.slice(firstDrift).every((f) => f.severity === 'drift')).toBe(true);
      expect(text.indexOf('SECURITY')).toBeGreaterThan(-1);
      expect(text.indexOf('SECURITY')).toBeLessThan(text.indexOf('Drift\n'));
      expect(markdown).toContain('[!CAUTION]');
    });

    it('security group: tcp/22 from 0.0.0.0/0 is security drift, the revoked platform port is drift', () => {
      expect(find('ruleOpenToWorld', 'acme')).toEqual([
        expect.objectContaining({ severity: 'security', resourceId: ids.acmeGroup, actual: 'tcp/22 from 0.0.0.0/0', repair: 'inPlace' }),
      ]);
      expect(find('ruleMissing', 'acme')).toEqual([
        expect.objectContaining({ severity: 'drift', resourceId: ids.acmeGroup, expected: expect.stringMatching(/^tcp\/8080 from \d+\.\d+\.\d+\.\d+\/\d+$/) }),
      ]);
    });

    it('tunnel ingress pointing at http://evil:80 is security drift', () => {
      expect(find('ingressOrigin', 'acme')).toEqual([
        expect.objectContaining({ severity: 'security', resourceId: ids.acmeTunnel, message: expect.stringContaining('http://evil:80') }),
      ]);
    });

    it('a bundle scheduled for deletion, and one replaced by {} (the lacking keys named, no value shown)', () => {
      expect(find('bundleScheduledForDeletion', 'acme')).toEqual([expect.objectContaining({ severity: 'drift', repair: 'inPlace' })]);
      const keys = find('bundleKeysMissing', 'umbrella');
      expect(keys).toEqual([expect.objectContaining({ severity: 'drift', repair: 'manual' })]);
      expect(keys[0]!.expected).toContain('DB_PASSWORD');
      expect(keys[0]!.expected).toContain('TUNNEL_TOKEN');
    });

    it('DNS content, proxying and TTL changed', () => {
      expect(find('recordContent', 'globex')).toEqual([expect.objectContaining({ resourceId: ids.globexRecord, actual: 'elsewhere.example.net' })]);
      expect(find('recordProxied', 'globex')).toHaveLength(1);
      expect(find('recordTtl', 'globex')).toEqual([expect.objectContaining({ actual: '300' })]);
    });

    it('a deleted tunnel whose record still points at it: dangling record (security) and missing tunnel', () => {
      expect(find('danglingRecord', 'initech')).toEqual([expect.objectContaining({ severity: 'security', actual: `${ids.initechTunnel}.cfargotunnel.com` })]);
      expect(find('tunnelMissing', 'initech')).toHaveLength(1);
    });

    it('a stopped instance, a changed instance type and a changed contract tag', () => {
      expect(find('power', 'initech')).toEqual([expect.objectContaining({ resourceId: ids.initechInstance, expected: 'running' })]);
      const ops = result.findings.filter((f) => f.resourceId === ids.globexOps);
      expect(ops).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ code: 'instanceType', expected: 't3.large', actual: 't3.micro', workspace: 'ops' }),
          expect.objectContaining({ code: 'tag', expected: 'Tier=T4', actual: 'Tier=T9', workspace: 'ops' }),
        ]),
      );
    });

    it('nothing else is reported', () => {
      const codes = result.findings.map((f) => `${f.slug}:${f.code}`).sort();
      expect(codes).toEqual(
        [
          'acme:bundleScheduledForDeletion',
          'acme:ingressOrigin',
          'acme:ruleMissing',
          'acme:ruleOpenToWorld',
          'globex:instanceType',
          'globex:recordContent',
          'globex:recordProxied',
          'globex:recordTtl',
          'globex:tag',
          'initech:danglingRecord',
          'initech:power',
          'initech:tunnelMissing',
          'umbrella:bundleKeysMissing',
        ].sort(),
      );
    });
  });

  describe('--fix', () => {
    const runFix = async (args: string[] = []) => {
      const io = memoryIo({ env: w.env, cwd: w.dir });
      const code = await main(['drift', '--db', db, '--fix', '--json', ...args], io, [driftCommandWith({ clock: virtualClock() })]);
      const stdout = io.out.join('');
      const stderr = io.err.join('');
      for (const s of [...w.envSecrets, ...bundleValues]) {
        expect(stdout).not.toContain(s);
        expect(stderr).not.toContain(s);
      }
      return { code, stderr, result: stdout ? (JSON.parse(stdout) as DriftResult) : undefined };
    };

    it('is refused (exit 3, no change) while another run holds the environment lock', async () => {
      const store = await openAuditStore(db);
      const holder = { host: hostname(), pid: process.pid, runId: 'another-run', startedAt: new Date().toISOString() };
      expect((await store.acquireLease('dev', holder, 60_000)).acquired).toBe(true);
      const traffic = w.mark();
      try {
        const res = await runFix();
        expect(res.code).toBe(3);
        expect(res.stderr).toMatch(/held by/);
      } finally {
        await store.releaseLease('dev', holder);
        await store.close();
      }
      expect(traffic()).toEqual({ aws: [], cf: [] });
    });

    it('repairs what changes in place through the apply path, never deletes, audits it, and reports what is left', async () => {
      const traffic = w.mark();
      const { code, result } = await runFix();
      const calls = traffic();
      expect(calls.aws.filter((a) => /^(Delete|Terminate)/.test(a))).toEqual([]);
      expect(calls.cf.filter((c) => c.startsWith('DELETE'))).toEqual([]);
      expect(result!.fix!.before.length).toBeGreaterThan(10);
      const status = (slug: string, code: string) => result!.fix!.outcomes.find((o) => o.slug === slug && o.codes.includes(code as never))?.status;
      expect(status('acme', 'ruleOpenToWorld')).toBe('fixed');
      expect(status('acme', 'ingressOrigin')).toBe('fixed');
      expect(status('acme', 'bundleScheduledForDeletion')).toBe('fixed');
      expect(status('globex', 'recordTtl')).toBe('fixed');
      expect(status('globex', 'instanceType')).toBe('fixed');
      expect(status('initech', 'power')).toBe('fixed');
      expect(status('initech', 'tunnelMissing')).toBe('leftToApply');
      expect(status('umbrella', 'bundleKeysMissing')).toBe('manual');
      // The second look: only what --fix leaves to apply and to the operator.
      expect(result!.findings.map((f) => `${f.slug}:${f.code}`).sort()).toEqual(['initech:danglingRecord', 'initech:tunnelMissing', 'umbrella:bundleKeysMissing']);
      expect(code).toBe(2);

      // Checked from outside.
      const group = await tenantGroup(ORG.acme);
      expect(group.IpPermissions!.some((p) => p.IpRanges?.some((r) => r.CidrIp === '0.0.0.0/0'))).toBe(false);
      expect(group.IpPermissions!.some((p) => p.FromPort === 8080)).toBe(true);
      const acmeTunnel = w.cf.tunnels().find((t) => t.name.endsWith(`.acme.${ORG.acme}`) && !t.deletedAt)!;
      expect(JSON.stringify(w.cf.configurations(acmeTunnel.id))).not.toContain('evil');
      const record = w.cf.dnsRecords().find((r) => r.name === HOST('globex'))!;
      expect(record).toMatchObject({ proxied: true, ttl: 1 });
      expect((await workspaceInstance(ORG.globex)).InstanceType).toBe('t3.large');
      expect((await tenantInstance(ORG.initech)).State?.Name).toBe('running');
      expect(w.runs().at(-1)).toMatchObject({ command: 'drift --fix', status: 'succeeded' });
      // Every repair is an audit row of the fix's own run.
      const conn = new Database(w.db, { readonly: true });
      const kinds = (conn.prepare('SELECT DISTINCT kind FROM tenant_resources WHERE run_id = ?').all(result!.fix!.runId) as Array<{ kind: string }>)
        .map((r) => r.kind)
        .sort();
      conn.close();
      expect(kinds).toEqual(['dnsRecord', 'ingress', 'instance', 'secret', 'securityGroup']);
      expect(w.auditText()).not.toContain(umbrellaBundle);
    });

    it('after apply recreates what is missing and the operator puts the bundle back, drift is clean', async () => {
      expect((await w.run(['apply', '--auto-approve'])).code).toBe(0);
      await w.check.secrets.send(new PutSecretValueCommand({ SecretId: secretName('dev', ORG.umbrella), SecretString: umbrellaBundle }));
      // Apply made initech a new tunnel and re-stamped its instance's TunnelID tag (it used to leave
      // the old id, which drift found and --fix stamped): nothing is left to fix.
      expect(tagsOf(await tenantInstance(ORG.initech)).TunnelID).toBe(w.cf.tunnels().find((t) => t.name.endsWith(`.initech.${ORG.initech}`) && !t.deletedAt)!.id);
      const { code, result } = await runFix();
      expect(result!.fix?.outcomes ?? []).toEqual([]);
      expect(result!.findings).toEqual([]);
      expect(code).toBe(0);
      const clean = await runFix();
      expect(clean.result!.fix).toBeUndefined();
      expect(clean.code).toBe(0);
    });

    it('a root volume grown past the declaration is a note (exit 0, never shrunk); a changed BackupConfig and an old Image tag are drift apply repairs, not --fix', async () => {
      // acme's root volume grown from outside (30 → 40 GB); globex's bundle tagged with other backup settings.
      const acme = await tenantInstance(ORG.acme);
      const volumes = await w.check.ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [acme.InstanceId!] }] }));
      const volumeId = volumes.Volumes![0]!.VolumeId!;
      await w.check.ec2.send(new ModifyVolumeCommand({ VolumeId: volumeId, Size: 40 }));
      const globexBundle = secretName('dev', ORG.globex);
      await w.check.secrets.send(new TagResourceCommand({ SecretId: globexBundle, Tags: [{ Key: 'BackupConfig', Value: 'sha256:0000000000000000' }] }));
      // acme's Image tag on an older image, as a redeploy whose health check failed leaves it.
      const acmeImage = tagsOf(acme).Image!;
      await w.check.ec2.send(new CreateTagsCommand({ Resources: [acme.InstanceId!], Tags: [{ Key: 'Image', Value: 'ghcr.io/example/platform:1.0.0' }] }));

      const traffic = w.mark();
      const { code, result } = await driftJson();
      expect(traffic()).toEqual({ aws: [], cf: [] });
      expect(code).toBe(2);
      expect(result.findings).toEqual([
        expect.objectContaining({
          slug: 'acme',
          code: 'tag',
          resourceId: acme.InstanceId,
          expected: `Image=${acmeImage}`,
          actual: 'Image=ghcr.io/example/platform:1.0.0',
        }),
        expect.objectContaining({
          slug: 'globex',
          severity: 'drift',
          code: 'backupConfig',
          resource: 'secret',
          resourceId: globexBundle,
          actual: 'BackupConfig=sha256:0000000000000000',
          expected: 'BackupConfig=off',
        }),
      ]);
      expect(result.notes).toEqual([
        expect.objectContaining({ slug: 'acme', severity: 'info', code: 'volumeLarger', resourceId: acme.InstanceId, expected: '30 GB', actual: '40 GB' }),
      ]);
      const text = (await drift()).stdout;
      expect(text).toMatch(/^Notes \(kept by rule\)\n {2}i acme {2}instance i-[0-9a-f]+: root volume 40 GB, larger than the declared 30 GB; kept/m);
      expect(text).toContain('nothing to fix; declare 40 GB to match');
      expect((await drift(['--markdown'])).stdout).toContain('**Notes** (kept by rule, nothing to fix):');

      // --fix leaves the bundle to apply and does not touch the volume.
      const fixTraffic = w.mark();
      const fixed = await runFix();
      expect(fixTraffic().aws.filter((a) => a === 'ModifyVolume')).toEqual([]);
      // Nor does it stamp the Image tag: that would claim a deploy that did not happen; apply redeploys.
      expect(fixed.result!.fix!.outcomes).toEqual([
        expect.objectContaining({ slug: 'acme', codes: ['tag'], status: 'leftToApply', detail: 'apply redeploys the declared image over SSM, which moves the tag' }),
        expect.objectContaining({ slug: 'globex', codes: ['backupConfig'], status: 'leftToApply' }),
      ]);
      expect(tagsOf(await tenantInstance(ORG.acme)).Image).toBe('ghcr.io/example/platform:1.0.0');

      // apply rewrites the bundle (as plan said); the larger disk stays: clean, with the note.
      expect((await w.run(['apply', '--auto-approve'])).code).toBe(0);
      const after = await driftJson();
      expect(after.result.findings).toEqual([]);
      expect(after.result.notes!.map((n) => `${n.slug}:${n.code}`)).toEqual(['acme:volumeLarger']);
      expect(after.code).toBe(0);
      expect(tagsOf(await tenantInstance(ORG.acme)).Image).toBe(acmeImage);
      const volume = await w.check.ec2.send(new DescribeVolumesCommand({ VolumeIds: [volumeId] }));
      expect(volume.Volumes![0]!.Size).toBe(40);
    });
  });
});
