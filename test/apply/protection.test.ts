/**
 * The act-time re-check (issue 8 item 0): right before a delete or a termination, the live
 * DeletionProtection tags are read again with describe calls, and a protected tenant (or a
 * workspace of one) is refused untouched — whatever plan or caller asked for it. Against moto
 * through the fault proxy; checked from outside with the SDK clients.
 */
import { CreateTagsCommand, DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
import { TagResourceCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executePlan } from '../../src/apply/executor.js';
import { createTenant, deleteTenant } from '../../src/apply/tenant.js';
import { terminateForReplacement } from '../../src/apply/update.js';
import { createWorkspace, deleteWorkspace, type WorkspaceIntent } from '../../src/apply/workspace.js';
import { secretName } from '../../src/contract.js';
import { GuardRefusal } from '../../src/errors.js';
import type { Plan } from '../../src/plan/model.js';
import { newTenant, orgInstances, startApplyHarness, tagsOf, tenantIntentFor, type ApplyHarness } from './harness.js';

let h: ApplyHarness;
beforeAll(async () => {
  h = await startApplyHarness();
});
afterAll(async () => {
  await h?.close();
});

function workspace(t: { orgId: string; slug: string }, name: string, deletionProtection: boolean): WorkspaceIntent {
  return {
    ...t,
    workspaceId: `${t.orgId.slice(0, 8)}-${name}`,
    name,
    runtime: 'claude-code',
    power: 'running',
    tier: 'T4',
    instanceType: 't3.large',
    volumeGb: 80,
    ami: h.aws.seed.ami,
    image: undefined,
    deletionProtection,
  };
}

async function orgGroups(orgId: string) {
  return (await h.check.ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'tag:OrgID', Values: [orgId] }] }))).SecurityGroups ?? [];
}

const mutating = (from: number) =>
  h.aws.calls
    .slice(from)
    .filter((c) => c.mutating)
    .map((c) => c.action);

describe('live DeletionProtection at the moment of acting', () => {
  it('a protected tenant stamps the tag on its workspace instance and group at create', async () => {
    const t = newTenant('stamp');
    await createTenant(h.ctx, { ...tenantIntentFor(h, t), deletionProtection: true });
    await createWorkspace(h.ctx, workspace(t, 'w', true));
    const ws = (await orgInstances(h, t.orgId)).find((i) => tagsOf(i).Role === 'workspace')!;
    expect(tagsOf(ws).DeletionProtection).toBe('true');
    expect(tagsOf((await orgGroups(t.orgId)).find((g) => tagsOf(g).Role === 'workspace')!).DeletionProtection).toBe('true');
  });

  it('deleteTenant refuses a tenant whose secret alone carries the tag, terminating and deleting nothing', async () => {
    const t = newTenant('tprot');
    await createTenant(h.ctx, tenantIntentFor(h, t));
    await createWorkspace(h.ctx, workspace(t, 'w', false));
    await h.check.secrets.send(new TagResourceCommand({ SecretId: secretName('dev', t.orgId), Tags: [{ Key: 'DeletionProtection', Value: 'true' }] }));
    const from = h.aws.calls.length;
    const err = await deleteTenant(h.ctx, t).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GuardRefusal);
    expect((err as Error).message).toMatch(/delete tenant tenant tprot-.*refused: live DeletionProtection=true on secret tenantform\/dev\/tenants\//);
    expect(mutating(from)).toEqual([]);
    expect(await orgInstances(h, t.orgId)).toHaveLength(2);
  });

  it('deleteWorkspace refuses a workspace whose tenant instance was tagged since the plan', async () => {
    const t = newTenant('wprot');
    const tenant = await createTenant(h.ctx, tenantIntentFor(h, t));
    const ws = await createWorkspace(h.ctx, workspace(t, 'w', false));
    await h.check.ec2.send(new CreateTagsCommand({ Resources: [tenant.instanceId], Tags: [{ Key: 'DeletionProtection', Value: 'true' }] }));
    const from = h.aws.calls.length;
    const err = await deleteWorkspace(h.ctx, { orgId: t.orgId, slug: t.slug, workspaceId: `${t.orgId.slice(0, 8)}-w` }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GuardRefusal);
    expect((err as Error).message).toContain(`instance ${tenant.instanceId}`);
    expect(mutating(from)).toEqual([]);
    expect((await orgInstances(h, t.orgId)).map((i) => i.InstanceId)).toContain(ws.instanceId);
  });

  it('deleteWorkspace terminates only the instances its plan names', async () => {
    const t = newTenant('named');
    await createTenant(h.ctx, tenantIntentFor(h, t));
    const ws = await createWorkspace(h.ctx, workspace(t, 'w', false));
    const from = h.aws.calls.length;
    // A plan whose delete names no instance (an edited file) terminates none; its group stays in use.
    await deleteWorkspace(h.ctx, { orgId: t.orgId, slug: t.slug, workspaceId: `${t.orgId.slice(0, 8)}-w` }, { instanceIds: [] }).catch(() => undefined);
    expect(mutating(from)).not.toContain('TerminateInstances');
    expect((await orgInstances(h, t.orgId)).map((i) => i.InstanceId)).toContain(ws.instanceId);
  });

  it('a replacement of a protected tenant instance is refused, and the executor reports it as blocked', async () => {
    const t = newTenant('rprot');
    const out = await createTenant(h.ctx, { ...tenantIntentFor(h, t), deletionProtection: true });
    const target = { kind: 'tenant' as const, orgId: t.orgId, slug: t.slug };
    const del = {
      id: `delete:tenant:${t.orgId}`,
      kind: 'delete' as const,
      target,
      steps: [{ resource: 'instance' as const, op: 'delete' as const, id: out.instanceId }],
      before: null,
      after: null,
      reason: 'forged',
      replacement: true,
      intent: { kind: 'instanceReplace' as const, orgId: t.orgId, slug: t.slug, instanceIds: [out.instanceId] },
    };
    const from = h.aws.calls.length;
    await expect(terminateForReplacement(h.ctx, del)).rejects.toBeInstanceOf(GuardRefusal);

    // The same through the executor, with no blockedBy on the action (as an edited plan would have it).
    const plan: Plan = {
      formatVersion: 3,
      environment: 'dev',
      createdAt: new Date(0).toISOString(),
      settings: null,
      basis: { commit: undefined, desiredHash: '', changedSince: undefined, scope: { kind: 'all' }, fingerprints: {}, replace: [] },
      actions: [
        {
          ...del,
          replacement: undefined,
          reason: 'forged cascade',
          intent: {
            kind: 'tenantDelete',
            cascade: { orgId: t.orgId, slug: t.slug, instances: [{ id: out.instanceId }], securityGroups: [], secrets: [], dnsRecords: [], tunnels: [] },
          },
        },
      ],
      guards: [],
      notices: [],
      summary: { create: 0, repair: 0, update: 0, redeploy: 0, resize: 0, stop: 0, start: 0, delete: 1 },
    };
    const cs = await executePlan(plan, h.ctx);
    expect(cs.results[0]).toMatchObject({ status: 'skipped', skipped: { reason: 'blocked' } });
    expect(cs.results[0]!.skipped!.detail).toContain('DeletionProtection=true');
    expect(mutating(from)).toEqual([]);
    expect((await orgInstances(h, t.orgId)).map((i) => i.InstanceId)).toEqual([out.instanceId]);
  });
});
