/**
 * The inventory an adoption check plans against: the control plane's resources as they will be
 * once adopted, plus whatever tenantform already manages of the same tenants (what a rerun or an
 * apply after `import --write` left). The same resource seen both ways counts once; anything
 * else is kept, so a duplicate shows in the plan (and refuses the adoption) instead of hiding.
 */
import type { Inventory, LiveTenant, LiveWorkspace } from '../live/model.js';

function union<T>(a: readonly T[], b: readonly T[], key: (x: T) => string): T[] {
  const seen = new Set(a.map(key));
  return [...a, ...b.filter((x) => !seen.has(key(x)))];
}

function mergeWorkspace(a: LiveWorkspace, b: LiveWorkspace): LiveWorkspace {
  return {
    ...a,
    instances: union(a.instances, b.instances, (i) => i.instanceId),
    securityGroups: union(a.securityGroups, b.securityGroups, (g) => g.groupId),
  };
}

function mergeTenant(a: LiveTenant, b: LiveTenant): LiveTenant {
  const workspaces: Record<string, LiveWorkspace> = { ...a.workspaces };
  for (const [id, w] of Object.entries(b.workspaces)) workspaces[id] = workspaces[id] ? mergeWorkspace(workspaces[id], w) : w;
  return {
    ...a,
    instances: union(a.instances, b.instances, (i) => i.instanceId),
    securityGroups: union(a.securityGroups, b.securityGroups, (g) => g.groupId),
    // The projected copy of the bundle has no ARN yet when it is still to be made: the name is the identity.
    secrets: union(a.secrets, b.secrets, (s) => s.name),
    tunnels: union(a.tunnels, b.tunnels, (t) => t.id),
    dnsRecords: union(a.dnsRecords, b.dnsRecords, (r) => r.id),
    workspaces,
    deletionProtection: a.deletionProtection || b.deletionProtection,
  };
}

export function mergeInventories(projected: Inventory, managed: Inventory): Inventory {
  const tenants: Record<string, LiveTenant> = { ...projected.tenants };
  for (const [orgId, t] of Object.entries(managed.tenants)) tenants[orgId] = tenants[orgId] ? mergeTenant(tenants[orgId], t) : t;
  return { ...projected, tenants, unattributed: [...projected.unattributed, ...managed.unattributed] };
}
