/**
 * What adoption stamps on a resource it found by its deterministic name (a crashed run's leftover,
 * or one made by hand): the contract tags it lacks, so that the next plan — which observes EC2 by
 * tags — sees it and is clean, instead of planning "missing security group" on every run.
 *
 * - Identity tags (ManagedBy, Env, OrgID, Role, WorkspaceID) and Name, GitCommit are filled in when
 *   absent and never overwritten: a group that carries another org's OrgID is not taken over here.
 * - OrgSlug follows the declaration (the planner would plan the same as a tag update).
 * - DeletionProtection is filled in when absent and raised to `true` for a protected owner; it is
 *   never lowered here (lowering is the planner's explicit update).
 */
import { Tag } from '../contract.js';
import { isProtectedTag } from '../plan/normalise.js';

const FILL_ONLY: ReadonlySet<string> = new Set([Tag.managedBy, Tag.env, Tag.orgId, Tag.role, Tag.workspaceId, Tag.name, Tag.gitCommit]);

/** The tags to set on an adopted resource (empty when it already carries the contract). */
export function tagsToStamp(want: Record<string, string>, live: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(want)) {
    const have = live[key];
    if (key === Tag.deletionProtection) {
      if (have === undefined || (isProtectedTag({ [key]: value }) && !isProtectedTag(live))) out[key] = value;
    } else if (FILL_ONLY.has(key)) {
      if (have === undefined) out[key] = value;
    } else if (have !== value) {
      out[key] = value;
    }
  }
  return out;
}
