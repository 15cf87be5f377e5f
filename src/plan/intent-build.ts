/**
 * The intents the planner's modules put on their actions (the shapes are intent.ts's): a
 * declaration's, or a delete's from the steps it records.
 */
import type { DesiredTenant, DesiredWorkspace } from '../desired/model.js';
import type { LiveTenant } from '../live/model.js';
import { tenantIntent, workspaceIntent, type ActionIntent } from './intent.js';
import type { ActionTarget, Step } from './model.js';

/** A tenant's or workspace's declaration, for any action but a delete. */
export function declaredIntent(tenant: DesiredTenant, ws?: DesiredWorkspace, previousHostname?: string): ActionIntent {
  if (ws) return { kind: 'workspace', workspace: workspaceIntent(tenant.spec, ws) };
  return { kind: 'tenant', tenant: tenantIntent(tenant), ...(previousHostname !== undefined ? { previousHostname } : {}) };
}

function deleted(steps: readonly Step[], resource: Step['resource']): Step[] {
  return steps.filter((s) => s.resource === resource && s.op === 'delete' && s.id !== undefined);
}

/** The delete half of a replacement: the instance ids its steps name. */
export function replacementIntent(t: ActionTarget, steps: readonly Step[]): ActionIntent {
  return {
    kind: 'instanceReplace',
    orgId: t.orgId,
    slug: t.slug,
    ...(t.workspaceId ? { workspaceId: t.workspaceId } : {}),
    instanceIds: deleted(steps, 'instance').map((s) => s.id!),
  };
}

export function workspaceDeleteIntent(t: ActionTarget & { workspaceId: string }, steps: readonly Step[]): ActionIntent {
  return {
    kind: 'workspaceDelete',
    cascade: {
      orgId: t.orgId,
      slug: t.slug,
      workspaceId: t.workspaceId,
      instances: deleted(steps, 'instance').map((s) => s.id!),
      securityGroups: deleted(steps, 'securityGroup').map((s) => s.id!),
    },
  };
}

/** A tenant cascade from its steps, with the record and tunnel names (for messages and audit rows) from what was observed. */
export function tenantDeleteIntent(t: ActionTarget, steps: readonly Step[], live: LiveTenant): ActionIntent {
  const names = (list: ReadonlyArray<{ id: string; name: string }> | undefined) => new Map((list ?? []).map((x) => [x.id, x.name]));
  const recordNames = names(live.dnsRecords);
  const tunnelNames = names(live.tunnels);
  const withWorkspace = (s: Step) => ({ id: s.id!, ...(s.workspaceId ? { workspaceId: s.workspaceId } : {}) });
  return {
    kind: 'tenantDelete',
    cascade: {
      orgId: t.orgId,
      slug: t.slug,
      instances: deleted(steps, 'instance').map(withWorkspace),
      securityGroups: deleted(steps, 'securityGroup').map(withWorkspace),
      secrets: deleted(steps, 'secret').map((s) => s.id!),
      dnsRecords: deleted(steps, 'dnsRecord').map((s) => ({ id: s.id!, name: recordNames.get(s.id!) ?? s.id! })),
      tunnels: deleted(steps, 'tunnel').map((s) => ({ id: s.id!, name: tunnelNames.get(s.id!) ?? s.id! })),
    },
  };
}
