/**
 * TENANT_BACKUP_S3_PREFIX and TENANT_BACKUP_REPORT_URL reach every tenant through its bootstrap
 * bundle (which user-data already fetches); unset keeps backups off; setting, changing or removing
 * them is planned as an update that rewrites the bundle and has the platform re-read it over SSM.
 * The report URL may carry a token: it never appears in any output or audit row. Checked from
 * outside with the SDK.
 */
import { DescribeSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupConfigTag, secretName } from '../../src/contract.js';
import type { Plan } from '../../src/plan/model.js';
import { ORG, startApplyWorld, tagsOf, type ApplyWorld } from './apply-world.js';

let w: ApplyWorld;
beforeAll(async () => {
  w = await startApplyWorld();
});
afterAll(async () => {
  await w?.close();
});

const TOKEN = 'rpt-tok-9f8e7d6c5b4a39281706f5e4';
const URL_1 = `https://backups.example.dev/report?token=${TOKEN}`;
const URL_2 = `https://backups.example.dev/v2/report?token=${TOKEN}`;
const PREFIX = 's3://example-backups/tenants/';

const outputs: string[] = [];
async function run(args: string[], extra: Record<string, string>) {
  const res = await w.run(args, { io: { env: { ...w.env, ...extra } } });
  outputs.push(res.stdout, res.stderr);
  return res;
}

async function bundleOf(orgId: string) {
  const name = secretName('dev', orgId);
  const value = JSON.parse((await w.check.secrets.send(new GetSecretValueCommand({ SecretId: name }))).SecretString!) as Record<string, string>;
  const tags = tagsOf(await w.check.secrets.send(new DescribeSecretCommand({ SecretId: name })));
  return { value, tag: tags.BackupConfig };
}

function updates(plan: Plan): string[] {
  return plan.actions.map((a) => `${a.kind} ${a.target.slug}${a.target.workspaceName ? `/${a.target.workspaceName}` : ''}`).sort();
}

const ALL_TENANTS = ['update acme', 'update globex', 'update initech', 'update umbrella'];

describe('backup settings reach the tenants through their bundles', () => {
  it('unset keeps backups off: no backup key in any bundle, BackupConfig=off', async () => {
    const res = await run(['apply', '--auto-approve'], {});
    expect(res.code).toBe(0);
    for (const org of Object.values(ORG)) {
      const b = await bundleOf(org);
      expect(b.value).not.toHaveProperty('TENANT_BACKUP_S3_PREFIX');
      expect(b.value).not.toHaveProperty('TENANT_BACKUP_REPORT_URL');
      expect(b.tag).toBe('off');
    }
    expect((await run(['plan'], {})).code).toBe(0);
  });

  it('setting them is planned as an update per tenant, applied into the bundle and re-read over SSM', async () => {
    const env = { TENANT_BACKUP_S3_PREFIX: PREFIX, TENANT_BACKUP_REPORT_URL: URL_1 };
    const planned = await run(['plan', '--json'], env);
    expect(planned.code).toBe(2);
    const plan = JSON.parse(planned.stdout) as Plan;
    expect(updates(plan)).toEqual(ALL_TENANTS);
    const acme = plan.actions.find((a) => a.target.slug === 'acme')!;
    expect(acme.steps.map((s) => `${s.resource} ${s.op}`)).toEqual(['secret modify', 'command run']);
    expect(acme.before).toEqual({ backups: 'off' });
    expect(acme.after?.backups).toMatch(/^sha256:[0-9a-f]{16}$/);
    // umbrella is stopped: SSM needs it running for the command, then it is stopped again.
    const umbrella = plan.actions.find((a) => a.target.slug === 'umbrella')!;
    expect(umbrella.steps.map((s) => `${s.resource} ${s.op}`)).toEqual(['secret modify', 'instance start', 'command run', 'instance stop']);

    const traffic = w.mark();
    const applied = await run(['apply', '--auto-approve'], env);
    expect(applied.stderr).not.toMatch(/error/i);
    expect(applied.code).toBe(0);
    const mutating = traffic().aws;
    expect(mutating.filter((a) => a === 'PutSecretValue')).toHaveLength(4);
    expect(mutating.filter((a) => a === 'SendCommand').length).toBeGreaterThanOrEqual(1);
    for (const org of Object.values(ORG)) {
      const b = await bundleOf(org);
      expect(b.value.TENANT_BACKUP_S3_PREFIX).toBe(PREFIX);
      expect(b.value.TENANT_BACKUP_REPORT_URL).toBe(URL_1);
      expect(b.tag).toBe(backupConfigTag(org, { s3Prefix: PREFIX, reportUrl: URL_1 }));
    }
    expect((await w.instances(ORG.umbrella)).map((i) => i.State?.Name)).toEqual(['stopped']);
    expect((await run(['plan'], env)).code).toBe(0);
  });

  it('a change to the report URL is planned as an update too', async () => {
    const env = { TENANT_BACKUP_S3_PREFIX: PREFIX, TENANT_BACKUP_REPORT_URL: URL_2 };
    const planned = await run(['plan', '--json'], env);
    expect(planned.code).toBe(2);
    expect(updates(JSON.parse(planned.stdout) as Plan)).toEqual(ALL_TENANTS);
    expect((await run(['apply', '--auto-approve'], env)).code).toBe(0);
    expect((await bundleOf(ORG.globex)).value.TENANT_BACKUP_REPORT_URL).toBe(URL_2);
    expect((await run(['plan'], env)).code).toBe(0);
  });

  it('removing them is a planned update that turns backups off again', async () => {
    const planned = await run(['plan', '--json'], {});
    expect(planned.code).toBe(2);
    expect(updates(JSON.parse(planned.stdout) as Plan)).toEqual(ALL_TENANTS);
    expect((await run(['apply', '--auto-approve'], {})).code).toBe(0);
    for (const org of Object.values(ORG)) {
      const b = await bundleOf(org);
      expect(b.value).not.toHaveProperty('TENANT_BACKUP_REPORT_URL');
      expect(b.value).not.toHaveProperty('TENANT_BACKUP_S3_PREFIX');
      expect(b.tag).toBe('off');
    }
    expect((await run(['plan'], {})).code).toBe(0);
  });

  it('never prints the report URL or lets it into the audit database', () => {
    for (const text of outputs) expect(text).not.toContain(TOKEN);
    expect(w.auditText()).not.toContain(TOKEN);
  });
});
