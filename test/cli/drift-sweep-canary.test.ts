/**
 * Drift and sweep with a canary account: canary tenants are compared in their own account against
 * its wiring (CANARY_*), their drift is fixed there, and orphans there are deleted with its
 * clients. Checked from outside with clients in each account.
 */
import { CreateSecurityGroupCommand, DescribeInstancesCommand, DescribeSecurityGroupsCommand, StopInstancesCommand } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DriftResult } from '../../src/drift/model.js';
import { startCanaryAccount, type CanaryAccount } from '../support/canary-account.js';
import { ORG, startApplyWorld, type ApplyWorld } from './apply-world.js';
import { marks, sweep } from './sweep-world.js';

const GHOST = '5f0c6a52-3b1e-4c8e-9a57-2d41e8a0b0ff';

describe('drift and sweep cover the canary account', () => {
  let w: ApplyWorld;
  let canary: CanaryAccount;
  beforeAll(async () => {
    w = await startApplyWorld();
    canary = await startCanaryAccount(w.aws);
    Object.assign(w.env, canary.env);
    expect((await w.run(['apply', '--auto-approve'])).code).toBe(0);
  });
  afterAll(async () => {
    canary?.close();
    await w?.close();
  });

  const tenantInstance = async () => {
    const out = await canary.check.ec2.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: 'tag:OrgID', Values: [ORG.acme] },
          { Name: 'tag:Role', Values: ['tenant'] },
          { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
        ],
      }),
    );
    return (out.Reservations ?? []).flatMap((r) => r.Instances ?? [])[0]!;
  };

  it('finds no drift right after an apply: the canary tenant is compared in its account, against its wiring', async () => {
    const res = await w.run(['drift', '--db', w.db, '--json']);
    const result = JSON.parse(res.stdout) as DriftResult;
    expect(result.findings).toEqual([]);
    expect(res.code).toBe(0);
    expect(result.deep.checked.sort()).toEqual(['acme', 'globex', 'initech', 'umbrella']);
    // Every bundle was read, the canary's in the canary account.
    expect(result.calls.deep.secretsmanager).toBe(4);
  });

  it('reports a canary instance stopped from outside as drift in the canary account, and --fix starts it there', async () => {
    const before = await tenantInstance();
    await canary.check.ec2.send(new StopInstancesCommand({ InstanceIds: [before.InstanceId!] }));
    const res = await w.run(['drift', '--db', w.db, '--json']);
    const result = JSON.parse(res.stdout) as DriftResult;
    expect(res.code).toBe(2);
    const power = result.findings.filter((f) => f.code === 'power');
    expect(power.map((f) => [f.slug, f.account, f.resourceId])).toEqual([['acme', 'canary', before.InstanceId]]);
    const fixed = await w.run(['drift', '--db', w.db, '--fix', '--json']);
    expect(fixed.code).toBe(0);
    expect((await tenantInstance()).State?.Name).toMatch(/pending|running/);
  });

  it("sweeps an orphaned group in the canary account with that account's clients", async () => {
    const made = await canary.check.ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: `tenantform-dev-tenant-${GHOST}`,
        Description: 'orphan',
        VpcId: canary.seed.vpcId,
        TagSpecifications: [{ ResourceType: 'security-group', Tags: Object.entries(marks('dev', GHOST, 'ghost', 'tenant')).map(([Key, Value]) => ({ Key, Value })) }],
      }),
    );
    const dry = await sweep(w, ['--min-age', '0s', '--json']);
    expect(dry.code).toBe(2);
    const orphans = (JSON.parse(dry.stdout) as { orphans: Array<{ id: string; account?: string }> }).orphans;
    expect(orphans.map((o) => [o.id, o.account])).toEqual([[made.GroupId, 'canary']]);
    const res = await sweep(w, ['--delete', '--min-age', '0s']);
    expect(res.code).toBe(0);
    const left = await canary.check.ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-id', Values: [made.GroupId!] }] }));
    expect(left.SecurityGroups ?? []).toEqual([]);
  });
});
