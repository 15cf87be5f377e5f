/**
 * Cascade deletes: a removed tenant leaves nothing behind; a stuck shutdown is an error naming the
 * instance; DependencyViolation is waited out while the group's users are going away, and fails at
 * once while one stands.
 */
import { DescribeSecurityGroupsCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteGroup } from '../../src/apply/security-group.js';
import { createTenant, deleteTenant } from '../../src/apply/tenant.js';
import { createWorkspace, deleteWorkspace, type WorkspaceIntent } from '../../src/apply/workspace.js';
import { secretName, tunnelName } from '../../src/contract.js';
import { CloudError, DeadlineExceeded } from '../../src/errors.js';
import { APP_DOMAIN, assertNoSecret, newTenant, orgInstances, startApplyHarness, tenantIntentFor, type ApplyHarness } from './harness.js';

let h: ApplyHarness;
beforeAll(async () => {
  h = await startApplyHarness();
});
afterAll(async () => {
  await h?.close();
});

function workspace(t: { orgId: string; slug: string }, name: string): WorkspaceIntent {
  return {
    ...t,
    workspaceId: `${t.orgId.slice(0, 8)}-${name}`,
    name,
    runtime: 'hermes',
    power: 'running',
    tier: 'T4',
    instanceType: 't3.large',
    volumeGb: 80,
    ami: h.aws.seed.ami,
    image: 'ghcr.io/example/hermes:2.1.0',
  };
}

async function orgGroups(orgId: string) {
  return (await h.check.ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'tag:OrgID', Values: [orgId] }] }))).SecurityGroups ?? [];
}

describe('deleteTenant', () => {
  it('cascades through workspaces, instance, groups, bundle, CNAME and tunnel, in that order', async () => {
    const t = newTenant('gone');
    const out = await createTenant(h.ctx, tenantIntentFor(h, t));
    await createWorkspace(h.ctx, workspace(t, 'a'));
    await createWorkspace(h.ctx, workspace(t, 'b'));
    h.cf.attachConnector(out.tunnelId);
    const from = h.audit.length;

    await deleteTenant(h.ctx, t);

    expect(await orgInstances(h, t.orgId)).toEqual([]);
    expect(await orgGroups(t.orgId)).toEqual([]);
    const secret = await h.check.secrets.send(new DescribeSecretCommand({ SecretId: secretName('dev', t.orgId) }));
    expect(secret.DeletedDate).toBeDefined();
    const days = (secret.DeletedDate!.getTime() - Date.now()) / 86_400_000;
    expect(Math.round(days)).toBe(7);
    expect(h.cf.dnsRecords().filter((r) => r.name === `${t.slug}.${APP_DOMAIN}`)).toEqual([]);
    const tunnel = h.cf.tunnels().find((x) => x.id === out.tunnelId)!;
    // A connector was attached: the double refuses the delete (1022) unless connections were cleaned first.
    expect(tunnel.deletedAt).not.toBeNull();

    const order = h.audit
      .slice(from)
      .filter((e) => e.state === 'deleted')
      .map((e) => `${e.kind}${e.workspaceId ? ':ws' : ''}`);
    expect(order).toEqual(['instance:ws', 'instance:ws', 'instance', 'securityGroup:ws', 'securityGroup:ws', 'securityGroup', 'secret', 'dnsRecord', 'tunnel']);
    assertNoSecret(h, JSON.stringify(h.audit));

    // Deleting again finds nothing left and changes nothing.
    await deleteTenant(h.ctx, t);
    expect(h.cf.tunnels().filter((x) => x.name === tunnelName('dev', t.slug, t.orgId) && x.deletedAt === null)).toEqual([]);
  });

  it('a recovery window of 0 deletes the bundle for good', async () => {
    const t = newTenant('purge');
    await createTenant(h.ctx, tenantIntentFor(h, t));
    await deleteTenant(h.ctx, t, { recoveryWindowDays: 0 });
    await expect(h.check.secrets.send(new DescribeSecretCommand({ SecretId: secretName('dev', t.orgId) }))).rejects.toThrow();
  });

  it('fails with DeadlineExceeded naming the instance when termination outlasts the deadline, and keeps the rest', async () => {
    const t = newTenant('stuck');
    const out = await createTenant(h.ctx, tenantIntentFor(h, t));
    // Longer than the 60 s deadline at one poll per (virtual) second, shorter than two of them.
    h.aws.faults.faithful.shuttingDownPolls = 70;
    try {
      const err = await deleteTenant(h.ctx, t).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DeadlineExceeded);
      expect((err as Error).message).toContain(out.instanceId);
      expect((err as Error).message).toContain('shutting-down');
    } finally {
      h.aws.faults.faithful.shuttingDownPolls = 1;
    }
    // Nothing after the stuck instance was touched: the group, bundle, CNAME and tunnel remain for the retry.
    expect(await orgGroups(t.orgId)).toHaveLength(1);
    expect((await h.check.secrets.send(new DescribeSecretCommand({ SecretId: secretName('dev', t.orgId) }))).DeletedDate).toBeUndefined();
    expect(h.cf.tunnels().find((x) => x.id === out.tunnelId)!.deletedAt).toBeNull();
    // The next run (termination has settled) finishes the job.
    await deleteTenant(h.ctx, t);
    expect(await orgGroups(t.orgId)).toEqual([]);
    expect(h.cf.tunnels().find((x) => x.id === out.tunnelId)!.deletedAt).not.toBeNull();
  });
});

describe('security group deletion', () => {
  it('retries DependencyViolation until the instance using the group has terminated', async () => {
    const t = newTenant('depv');
    const ws = await createWorkspace(h.ctx, workspace(t, 'w'));
    h.aws.faults.faithful.shuttingDownPolls = 3;
    try {
      await h.check.ec2.send(new TerminateInstancesCommand({ InstanceIds: [ws.instanceId] }));
      await deleteGroup(h.ctx, ws.securityGroupId, { orgId: t.orgId });
    } finally {
      h.aws.faults.faithful.shuttingDownPolls = 1;
    }
    const refusals = h.aws.calls.filter((c) => c.action === 'DeleteSecurityGroup' && c.errorCode === 'DependencyViolation' && c.params.GroupId === ws.securityGroupId);
    expect(refusals.length).toBeGreaterThanOrEqual(2);
    const row = h.audit.find((e) => e.kind === 'securityGroup' && e.resourceId === ws.securityGroupId && e.state === 'deleted')!;
    expect(row.details?.attempts).toBe(refusals.length + 1);
    expect(await orgGroups(t.orgId)).toEqual([]);
  });

  it('gives up with DeadlineExceeded naming the group when it never frees', async () => {
    const t = newTenant('depv2');
    const ws = await createWorkspace(h.ctx, workspace(t, 'w'));
    // The instance stays shutting-down for longer than the 60 s deadline (one refusal per virtual second), so the
    // group is in use for as long as we try; shorter than two deadlines, so the clean-up below gets through.
    h.aws.faults.faithful.shuttingDownPolls = 70;
    try {
      await h.check.ec2.send(new TerminateInstancesCommand({ InstanceIds: [ws.instanceId] }));
      const err = await deleteGroup(h.ctx, ws.securityGroupId, { orgId: t.orgId }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DeadlineExceeded);
      expect((err as Error).message).toContain(ws.securityGroupId);
    } finally {
      h.aws.faults.faithful.shuttingDownPolls = 1;
    }
    await deleteWorkspace(h.ctx, { orgId: t.orgId, slug: t.slug, workspaceId: `${t.orgId.slice(0, 8)}-w` });
    expect(await orgGroups(t.orgId)).toEqual([]);
    expect(await orgInstances(h, t.orgId)).toEqual([]);
  });

  it('fails at once, naming the instance, when an instance that is not being terminated still uses the group', async () => {
    const t = newTenant('depv3');
    const ws = await createWorkspace(h.ctx, workspace(t, 'w'));
    // The instance still runs: waiting cannot free the group, so there is no retry until the deadline.
    const from = h.aws.calls.length;
    const err = await deleteGroup(h.ctx, ws.securityGroupId, { orgId: t.orgId }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CloudError);
    expect(err).not.toBeInstanceOf(DeadlineExceeded);
    expect((err as Error).message).toContain(ws.securityGroupId);
    expect((err as Error).message).toContain(`still used by instance ${ws.instanceId} (running)`);
    expect(h.aws.calls.slice(from).filter((c) => c.action === 'DeleteSecurityGroup')).toHaveLength(1);
    await deleteWorkspace(h.ctx, { orgId: t.orgId, slug: t.slug, workspaceId: `${t.orgId.slice(0, 8)}-w` });
    expect(await orgGroups(t.orgId)).toEqual([]);
    expect(await orgInstances(h, t.orgId)).toEqual([]);
  });
});
