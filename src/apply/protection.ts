/**
 * The last check before anything is terminated or deleted: re-read the live DeletionProtection
 * tags of the target (and of its tenant: a protected tenant's workspaces are protected too) with
 * describe calls made at that moment, and refuse when any says `true`. The planner and apply's
 * preflight judged an observation made earlier; this one judges what is there now, so neither an
 * edited plan nor a tag set since the plan can get a protected tenant's instance terminated.
 */
import { MANAGED_BY, Tag } from '../contract.js';
import { GuardRefusal } from '../errors.js';
import { tagsToRecord } from '../live/ec2.js';
import { isProtectedTag } from '../plan/normalise.js';
import type { ActContext } from './context.js';
import { findInstances, NOT_TERMINATED_STATES } from './instance.js';
import { describeBundle } from './secret.js';
import { findOwnedGroups } from './security-group.js';

export interface ProtectedTarget {
  orgId: string;
  slug: string;
  /** Set for a workspace: its own resources and its tenant's count. */
  workspaceId?: string;
}

/** Throws GuardRefusal (exit 3) naming every live resource that carries DeletionProtection=true. */
export async function refuseIfProtected(ctx: ActContext, target: ProtectedTarget, operation: string): Promise<void> {
  const tagged: string[] = [];
  const relevant = (tags: Record<string, string>): boolean => {
    if (tags[Tag.managedBy] !== MANAGED_BY || tags[Tag.env] !== ctx.wiring.environment || tags[Tag.orgId] !== target.orgId) return false;
    // A tenant delete weighs everything of the org; a workspace weighs its tenant and itself.
    if (target.workspaceId === undefined) return true;
    return tags[Tag.role] === 'tenant' || tags[Tag.workspaceId] === target.workspaceId;
  };
  const [tenantInstances, workspaceInstances] = await Promise.all([
    findInstances(ctx, { role: 'tenant', orgId: target.orgId, slug: target.slug }, NOT_TERMINATED_STATES),
    findInstances(
      ctx,
      { role: 'workspace', orgId: target.orgId, slug: target.slug, ...(target.workspaceId ? { workspaceId: target.workspaceId } : {}) },
      NOT_TERMINATED_STATES,
    ),
  ]);
  for (const i of [...tenantInstances, ...workspaceInstances]) {
    const tags = tagsToRecord(i.Tags);
    if (relevant(tags) && isProtectedTag(tags)) tagged.push(`instance ${i.InstanceId}`);
  }
  for (const g of await findOwnedGroups(ctx, target.orgId)) {
    const tags = tagsToRecord(g.Tags);
    if (relevant(tags) && isProtectedTag(tags)) tagged.push(`security group ${g.GroupId}`);
  }
  const bundle = await describeBundle(ctx, target.orgId);
  if (bundle && !bundle.DeletedDate && isProtectedTag(tagsToRecord(bundle.Tags))) tagged.push(`secret ${bundle.Name}`);
  if (tagged.length === 0) return;
  const what =
    target.workspaceId === undefined ? `tenant ${target.slug} (org ${target.orgId})` : `workspace ${target.workspaceId} of tenant ${target.slug} (org ${target.orgId})`;
  throw new GuardRefusal(`refused: live ${Tag.deletionProtection}=true on ${tagged.join(', ')} (read just now); nothing was terminated or deleted`, {
    operation,
    resource: what,
  });
}
