/**
 * Undeclared tenants: the whole cascade, in one `delete` action.
 *
 * - Deletes. A live tenant with no declaration is deleted with its whole cascade in steps:
 *   workspace instances, tenant instance, workspace then tenant security groups, secret, DNS
 *   records, tunnels. Unattributed resources never produce actions (sweep's job). Workspace
 *   deletes under a declared tenant are workspace.ts's.
 * - Existence. Shutting-down and terminated instances are gone (a create may proceed), but a
 *   cascade still lists shutting-down instances so apply waits for them before removing their
 *   security groups. A secret scheduled for deletion does not exist.
 */
import type { LiveTenant } from '../live/model.js';
import { action } from './context.js';
import { isTenantProtected } from './guards.js';
import { tenantDeleteIntent } from './intent-build.js';
import type { Action, ActionTarget, Step } from './model.js';
import { byAge, compareText, isExisting, isNotTerminated, tunnelsByAge } from './normalise.js';

export function planTenantDelete(orgId: string, live: LiveTenant): Action | undefined {
  const slug = live.slug ?? orgId;
  const target: ActionTarget = { kind: 'tenant', orgId, slug };
  const workspaceIds = Object.keys(live.workspaces ?? {}).sort(compareText);
  const steps: Step[] = [];
  let instanceCount = 0;
  let groupCount = 0;
  for (const wid of workspaceIds) {
    for (const i of (live.workspaces[wid]!.instances ?? []).filter(isNotTerminated).sort(byAge)) {
      steps.push({ resource: 'instance', op: 'delete', id: i.instanceId, workspaceId: wid });
      instanceCount += 1;
    }
  }
  for (const i of (live.instances ?? []).filter(isNotTerminated).sort(byAge)) {
    steps.push({ resource: 'instance', op: 'delete', id: i.instanceId });
    instanceCount += 1;
  }
  for (const wid of workspaceIds) {
    for (const g of [...(live.workspaces[wid]!.securityGroups ?? [])].sort((a, b) => compareText(a.groupId, b.groupId))) {
      steps.push({ resource: 'securityGroup', op: 'delete', id: g.groupId, workspaceId: wid });
      groupCount += 1;
    }
  }
  for (const g of [...(live.securityGroups ?? [])].sort((a, b) => compareText(a.groupId, b.groupId))) {
    steps.push({ resource: 'securityGroup', op: 'delete', id: g.groupId });
    groupCount += 1;
  }
  const secrets = (live.secrets ?? []).filter((s) => !s.deletedDate).sort((a, b) => compareText(a.arn, b.arn));
  for (const s of secrets) steps.push({ resource: 'secret', op: 'delete', id: s.arn });
  const records = [...(live.dnsRecords ?? [])].sort((a, b) => compareText(a.id, b.id));
  for (const r of records) steps.push({ resource: 'dnsRecord', op: 'delete', id: r.id });
  const tunnels = [...(live.tunnels ?? [])].sort(tunnelsByAge);
  for (const t of tunnels) steps.push({ resource: 'tunnel', op: 'delete', id: t.id });
  if (steps.length === 0) return undefined;

  const protectedLive = isTenantProtected(live);
  return action(
    'delete',
    target,
    steps,
    {
      slug,
      workspaces: workspaceIds.length,
      instances: instanceCount,
      securityGroups: groupCount,
      secrets: secrets.length,
      dnsRecords: records.length,
      tunnels: tunnels.length,
      deletionProtection: protectedLive,
    },
    null,
    'tenant is no longer declared in the fleet repository: its whole cascade is deleted',
    tenantDeleteIntent(target, steps, live),
  );
}

export function hasAnythingLive(live: LiveTenant): boolean {
  if ((live.instances ?? []).some(isExisting)) return true;
  if ((live.securityGroups ?? []).length || (live.tunnels ?? []).length || (live.dnsRecords ?? []).length) return true;
  if ((live.secrets ?? []).some((s) => !s.deletedDate)) return true;
  return Object.values(live.workspaces ?? {}).some((w) => (w.instances ?? []).some(isExisting) || (w.securityGroups ?? []).length > 0);
}
