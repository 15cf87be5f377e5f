/**
 * The pure drift comparison on the planner's fixtures (test/plan/fixtures.ts): a root volume
 * larger than declared is an `info` note (the planner keeps it; nothing may shrink it), and the
 * bundle's BackupConfig tag is compared with TENANT_BACKUP_* the way plan compares it.
 */
import { describe, expect, it } from 'vitest';
import { Tag, backupConfigTag, secretName } from '../../src/contract.js';
import { compareFleet } from '../../src/drift/compare.js';
import type { DriftExpectations, DriftFacts } from '../../src/drift/expectations.js';
import { planChanges } from '../../src/plan/build.js';
import { clone, desiredState, inventoryFor, tenant, workspace } from '../plan/fixtures.js';

const desired = desiredState([tenant('acme', { orgId: 'org-acme', workspaces: [workspace('ops')] })]);
const expectations = (over: Partial<DriftExpectations> = {}): DriftExpectations => ({
  environment: 'dev',
  appDomain: desired.fleet.appDomain,
  platformPort: 8080,
  perTenantGroups: false,
  vpcCidr: undefined,
  eicGroupId: undefined,
  iamProfile: undefined,
  requiredBundleKeys: [],
  ...over,
});
const facts: DriftFacts = { deepChecked: new Set(), tunnelConfigs: new Map(), bundleKeys: new Map(), instanceProfiles: new Map(), recordTtls: new Map() };
const codes = (findings: ReturnType<typeof compareFleet>, ...wanted: string[]) => findings.filter((f) => wanted.includes(f.code));

describe('drift: root volume larger than declared', () => {
  it('is an info note on the instance, saying it is kept and how to match it; smaller stays drift', () => {
    const inv = clone(inventoryFor(desired));
    inv.tenants['org-acme']!.instances[0]!.volumeGb = 45;
    inv.tenants['org-acme']!.workspaces['ws-ops']!.instances[0]!.volumeGb = 60;
    const found = codes(compareFleet(desired, inv, expectations(), facts), 'volumeSize', 'volumeLarger');
    expect(found).toEqual([
      expect.objectContaining({ slug: 'acme', workspace: 'ops', severity: 'drift', code: 'volumeSize', expected: '80 GB', actual: '60 GB', repair: 'inPlace' }),
      expect.objectContaining({
        slug: 'acme',
        severity: 'info',
        code: 'volumeLarger',
        resource: 'instance',
        resourceId: 'i-t-org-acme',
        expected: '30 GB',
        actual: '45 GB',
        repair: 'manual',
      }),
    ]);
    const note = found.find((f) => f.code === 'volumeLarger')!;
    expect(note.message).toContain('kept');
    expect(note.remedy).toContain('declare 45 GB to match');
    expect(note.remedy).toContain('plan --replace acme');
    // The planner keeps the larger disk: nothing for apply to do, so nothing for drift to fix.
    expect(planChanges(desired, inv, { now: '2025-06-01T12:00:00.000Z' }).actions.filter((a) => a.target.workspaceId === undefined)).toEqual([]);
  });

  it('an equal volume, or an unknown size, says nothing', () => {
    const inv = clone(inventoryFor(desired));
    inv.tenants['org-acme']!.instances[0]!.volumeGb = undefined;
    expect(codes(compareFleet(desired, inv, expectations(), facts), 'volumeSize', 'volumeLarger')).toEqual([]);
  });
});

describe('drift: backup settings (BackupConfig), as plan compares them', () => {
  const backup = { s3Prefix: 's3://backups/dev/', reportUrl: 'https://reports.example.dev/hook?token=abc' };
  const withTag = (value: string | undefined) => {
    const inv = clone(inventoryFor(desired));
    const tags = inv.tenants['org-acme']!.secrets[0]!.tags;
    if (value === undefined) delete tags[Tag.backupConfig];
    else tags[Tag.backupConfig] = value;
    return inv;
  };

  it('a bundle whose BackupConfig differs from TENANT_BACKUP_* is drift apply repairs', () => {
    const found = codes(compareFleet(desired, withTag('sha256:0000000000000000'), expectations({ backup }), facts), 'backupConfig');
    const want = backupConfigTag('org-acme', backup);
    expect(found).toEqual([
      expect.objectContaining({
        slug: 'acme',
        severity: 'drift',
        resource: 'secret',
        resourceId: secretName('dev', 'org-acme'),
        expected: `BackupConfig=${want}`,
        actual: 'BackupConfig=sha256:0000000000000000',
        repair: 'inPlace',
      }),
    ]);
    expect(JSON.stringify(found)).not.toContain('token=abc');
    // And plan, from the same inventory, plans the bundle rewrite.
    const plan = planChanges(desired, withTag('sha256:0000000000000000'), { now: '2025-06-01T12:00:00.000Z', backup });
    expect(plan.actions.map((a) => [a.kind, a.target.slug])).toEqual([['update', 'acme']]);
  });

  it('a missing tag counts as off: drift when backups are wired, none when they are not', () => {
    expect(codes(compareFleet(desired, withTag(undefined), expectations({ backup }), facts), 'backupConfig')).toHaveLength(1);
    expect(codes(compareFleet(desired, withTag(undefined), expectations({ backup: {} }), facts), 'backupConfig')).toEqual([]);
    expect(codes(compareFleet(desired, withTag('off'), expectations({ backup: { s3Prefix: undefined, reportUrl: undefined } }), facts), 'backupConfig')).toEqual([]);
  });

  it('matching settings say nothing, and without the wiring nothing is compared', () => {
    expect(codes(compareFleet(desired, withTag(backupConfigTag('org-acme', backup)), expectations({ backup }), facts), 'backupConfig')).toEqual([]);
    expect(codes(compareFleet(desired, withTag('sha256:0000000000000000'), expectations(), facts), 'backupConfig')).toEqual([]);
  });
});
