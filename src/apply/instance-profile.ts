/**
 * The tenant IAM instance profile (EC2_TENANT_IAM_PROFILE) on a live instance, for `drift --fix`:
 * RunInstances sets it at launch, but an operator can disassociate it or associate another one,
 * and then the instance cannot read its bootstrap bundle.
 *
 * - The instance's current association comes from DescribeIamInstanceProfileAssociations (the
 *   association id is only there): one in state `associating` or `associated`.
 * - None: AssociateIamInstanceProfile. Another profile: ReplaceIamInstanceProfileAssociation (one
 *   call, so the instance is never left without a profile in between). The declared one already:
 *   nothing (idempotent, so a re-run after a crash is safe).
 * - An association still `disassociating` makes AWS refuse a new one (IncorrectState); that fails
 *   this repair, and the next drift run finds the instance without a profile and associates it.
 * Both calls need iam:PassRole on the profile's role, which the policy grants for the tenant role.
 */
import {
  AssociateIamInstanceProfileCommand,
  DescribeIamInstanceProfileAssociationsCommand,
  ReplaceIamInstanceProfileAssociationCommand,
  type IamInstanceProfileAssociation,
} from '@aws-sdk/client-ec2';
import { awsCall } from './cloud.js';
import type { ActContext } from './context.js';

export interface ProfileOwner {
  orgId: string;
  workspaceId?: string;
}

export interface ProfileRepair {
  /** What was done: `associated` (there was none), `replaced` (another profile), `unchanged`. */
  action: 'associated' | 'replaced' | 'unchanged';
  /** The profile name associated before, if any. */
  was: string | undefined;
  associationId: string | undefined;
}

const CURRENT = new Set(['associating', 'associated']);

/** The profile name in an instance profile ARN (`arn:…:instance-profile/<path/>name`). */
export function profileNameOf(arn: string | undefined): string | undefined {
  return arn?.split('/').pop();
}

async function currentAssociation(ctx: ActContext, instanceId: string): Promise<IamInstanceProfileAssociation | undefined> {
  const found: IamInstanceProfileAssociation[] = [];
  let NextToken: string | undefined;
  do {
    const page = await awsCall(ctx, 'ec2', 'DescribeIamInstanceProfileAssociations', `instance ${instanceId}`, () =>
      ctx.aws.ec2.send(new DescribeIamInstanceProfileAssociationsCommand({ Filters: [{ Name: 'instance-id', Values: [instanceId] }], NextToken })),
    );
    found.push(...(page.IamInstanceProfileAssociations ?? []));
    NextToken = page.NextToken;
  } while (NextToken);
  return found.find((a) => a.InstanceId === instanceId && CURRENT.has(a.State ?? ''));
}

/** Associates the tenant instance profile with `instanceId`, or replaces the association of another one. */
export async function ensureInstanceProfile(ctx: ActContext, instanceId: string, owner: ProfileOwner): Promise<ProfileRepair> {
  const want = ctx.wiring.instanceProfileName;
  const current = await currentAssociation(ctx, instanceId);
  const was = profileNameOf(current?.IamInstanceProfile?.Arn);
  if (current && was === want) return { action: 'unchanged', was, associationId: current.AssociationId };
  const resource = `instance ${instanceId}`;
  const replacing = current?.AssociationId;
  const made = replacing
    ? await awsCall(ctx, 'ec2', 'ReplaceIamInstanceProfileAssociation', resource, () =>
        ctx.aws.ec2.send(new ReplaceIamInstanceProfileAssociationCommand({ AssociationId: replacing, IamInstanceProfile: { Name: want } })),
      )
    : await awsCall(ctx, 'ec2', 'AssociateIamInstanceProfile', resource, () =>
        ctx.aws.ec2.send(new AssociateIamInstanceProfileCommand({ InstanceId: instanceId, IamInstanceProfile: { Name: want } })),
      );
  const repair: ProfileRepair = { action: replacing ? 'replaced' : 'associated', was, associationId: made.IamInstanceProfileAssociation?.AssociationId };
  ctx.audit({
    kind: 'instance',
    resourceId: instanceId,
    orgId: owner.orgId,
    ...(owner.workspaceId ? { workspaceId: owner.workspaceId } : {}),
    state: 'updated',
    details: {
      instanceProfile: want,
      was: was ?? '(none)',
      ...(repair.associationId ? { associationId: repair.associationId } : {}),
      by: 'drift --fix',
    },
  });
  return repair;
}
