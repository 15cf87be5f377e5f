/**
 * The instance-profile act primitive (src/apply/instance-profile.ts) against moto through the
 * fault proxy: associate where none is, replace another, nothing when the declared one is there
 * (idempotent: no mutating call), and a refused call is a typed error naming the operation and
 * the instance, with no audit row.
 */
import {
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeInstancesCommand,
  DisassociateIamInstanceProfileCommand,
  ReplaceIamInstanceProfileAssociationCommand,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { CreateInstanceProfileCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureInstanceProfile } from '../../src/apply/instance-profile.js';
import { CloudError } from '../../src/errors.js';
import { markTraffic, newTenant, startApplyHarness, type ApplyHarness } from './harness.js';

const OTHER = 'not-the-tenant-profile';
let h: ApplyHarness;

beforeAll(async () => {
  h = await startApplyHarness();
  await h.check.iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: OTHER }));
});
afterAll(async () => {
  await h?.close();
});

async function launch(profile: string | undefined): Promise<{ id: string; orgId: string }> {
  const { orgId } = newTenant();
  const out = await h.check.ec2.send(
    new RunInstancesCommand({
      ImageId: h.aws.seed.ami,
      InstanceType: 't3.small',
      MinCount: 1,
      MaxCount: 1,
      SubnetId: h.aws.seed.subnetId,
      ...(profile ? { IamInstanceProfile: { Name: profile } } : {}),
      TagSpecifications: [
        {
          ResourceType: 'instance',
          Tags: [
            { Key: 'ManagedBy', Value: 'tenantform' },
            { Key: 'OrgID', Value: orgId },
          ],
        },
      ],
    }),
  );
  return { id: out.Instances![0]!.InstanceId!, orgId };
}

async function profileOf(id: string): Promise<{ associations: string[]; instance: string | undefined }> {
  const assocs = await h.check.ec2.send(new DescribeIamInstanceProfileAssociationsCommand({ Filters: [{ Name: 'instance-id', Values: [id] }] }));
  const described = await h.check.ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
  return {
    associations: (assocs.IamInstanceProfileAssociations ?? []).map((a) => a.IamInstanceProfile!.Arn!.split('/').pop()!),
    instance: described.Reservations![0]!.Instances![0]!.IamInstanceProfile?.Arn?.split('/').pop(),
  };
}

describe('ensureInstanceProfile', () => {
  const want = () => h.aws.seed.instanceProfileName;

  it('associates the tenant profile with an instance that has none, then does nothing the second time', async () => {
    const { id, orgId } = await launch(undefined);
    expect(await profileOf(id)).toEqual({ associations: [], instance: undefined });
    const traffic = markTraffic(h);
    const done = await ensureInstanceProfile(h.ctx, id, { orgId });
    expect(done).toMatchObject({ action: 'associated', was: undefined, associationId: expect.stringMatching(/^iip-assoc-/) as string });
    expect(traffic().awsMutating).toEqual(['AssociateIamInstanceProfile']);
    expect(await profileOf(id)).toEqual({ associations: [want()], instance: want() });
    expect(h.audit.filter((e) => e.resourceId === id)).toEqual([
      {
        kind: 'instance',
        resourceId: id,
        orgId,
        state: 'updated',
        details: { instanceProfile: want(), was: '(none)', associationId: done.associationId!, by: 'drift --fix' },
      },
    ]);

    const again = markTraffic(h);
    expect(await ensureInstanceProfile(h.ctx, id, { orgId })).toMatchObject({ action: 'unchanged', was: want() });
    expect(again().awsMutating).toEqual([]);
    expect(h.audit.filter((e) => e.resourceId === id)).toHaveLength(1);
  });

  it('replaces the association of another profile in one call, keeping the workspace id on the audit row', async () => {
    const { id, orgId } = await launch(OTHER);
    const traffic = markTraffic(h);
    const done = await ensureInstanceProfile(h.ctx, id, { orgId, workspaceId: 'ws-1' });
    expect(done).toMatchObject({ action: 'replaced', was: OTHER });
    expect(traffic().awsMutating).toEqual(['ReplaceIamInstanceProfileAssociation']);
    expect(await profileOf(id)).toEqual({ associations: [want()], instance: want() });
    expect(h.audit.filter((e) => e.resourceId === id)).toEqual([expect.objectContaining({ workspaceId: 'ws-1', details: expect.objectContaining({ was: OTHER }) })]);
  });

  it('a refused call is a CloudError naming the operation and the instance, with no audit row', async () => {
    const { id, orgId } = await launch(want());
    const [assoc] = (await h.check.ec2.send(new DescribeIamInstanceProfileAssociationsCommand({ Filters: [{ Name: 'instance-id', Values: [id] }] })))
      .IamInstanceProfileAssociations!;
    await h.check.ec2.send(new ReplaceIamInstanceProfileAssociationCommand({ AssociationId: assoc!.AssociationId, IamInstanceProfile: { Name: OTHER } }));
    const fault = h.aws.faults.inject({ kind: 'serverError', service: 'ec2', action: 'ReplaceIamInstanceProfileAssociation' });
    try {
      const err = await ensureInstanceProfile(h.ctx, id, { orgId }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CloudError);
      expect(err).toMatchObject({ operation: 'ReplaceIamInstanceProfileAssociation', resource: `instance ${id}` });
    } finally {
      fault.remove();
    }
    expect(h.audit.filter((e) => e.resourceId === id)).toEqual([]);
    expect((await profileOf(id)).instance).toBe(OTHER);
    // Disassociated meanwhile (the association id it read is gone): it associates afresh.
    const [now] = (await h.check.ec2.send(new DescribeIamInstanceProfileAssociationsCommand({ Filters: [{ Name: 'instance-id', Values: [id] }] })))
      .IamInstanceProfileAssociations!;
    await h.check.ec2.send(new DisassociateIamInstanceProfileCommand({ AssociationId: now!.AssociationId }));
    expect((await ensureInstanceProfile(h.ctx, id, { orgId })).action).toBe('associated');
    expect(await profileOf(id)).toEqual({ associations: [want()], instance: want() });
  });
});
