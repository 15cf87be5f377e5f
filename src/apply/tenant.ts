/**
 * Tenant create, repair and cascade delete, composed from the per-resource steps. Every step
 * re-reads live state by deterministic name or tags first, so running any of these again after a
 * crash at any point converges without duplicates.
 */
import { Tag, hostname, secretName } from '../contract.js';
import type { TenantCascade, TenantIntent } from '../plan/intent.js';
import type { Step } from '../plan/model.js';
import { auditableError } from './cloud.js';
import type { ActContext } from './context.js';
import { ensureCname, deleteRecord, findStaleSlugRecords, findTenantCnames } from './dns.js';
import { ensureIngress } from './ingress.js';
import { describeIdentity, ensureInstance, findOrgInstances, drivePower, instanceStates, terminateInstances, waitForState } from './instance.js';
import { refuseIfProtected } from './protection.js';
import { DEFAULT_RECOVERY_WINDOW_DAYS, deleteBundle, ensureBundle } from './secret.js';
import { deleteGroup, ensureGroup, findGroupByName, findOwnedGroups, groupName, tenantPermissions } from './security-group.js';
import { deleteTunnel, ensureTunnel, findOrgTunnels, findStaleSlugTunnels, getTunnelToken, type TenantIdentity } from './tunnel.js';
import { setResourceTags } from './update.js';
import { tenantUserData } from './user-data.js';

/** What a tenant is built from: the plan's intent (src/plan/intent.ts). */
export type { TenantIntent } from '../plan/intent.js';

export interface TenantOutcome {
  tunnelId: string;
  dnsRecordId: string;
  secretName: string;
  securityGroupId: string;
  instanceId: string;
  /** Sub-resources this call created (the rest were adopted). */
  created: Array<'tunnel' | 'dnsRecord' | 'secret' | 'securityGroup' | 'instance'>;
}

/** Delete tunnels and DNS records of the same slug left by another (purged) org, as the control plane did before reusing a slug. */
export async function cleanStaleSlugArtifacts(ctx: ActContext, tenant: TenantIdentity): Promise<number> {
  const tunnels = await findStaleSlugTunnels(ctx, tenant);
  const records = await findStaleSlugRecords(ctx, tenant);
  for (const r of records) await deleteRecord(ctx, r, tenant.orgId);
  for (const t of tunnels) await deleteTunnel(ctx, t, tenant.orgId);
  return tunnels.length + records.length;
}

export interface CreateTenantOptions {
  /** Clean a purged org's artifacts of the same slug first (create: yes; repair: when the plan says so). */
  cleanStale?: boolean;
}

export async function createTenant(ctx: ActContext, intent: TenantIntent, opts: CreateTenantOptions = {}): Promise<TenantOutcome> {
  const created: TenantOutcome['created'] = [];
  if (opts.cleanStale ?? true) await cleanStaleSlugArtifacts(ctx, intent);

  const tunnel = await ensureTunnel(ctx, intent);
  if (tunnel.created) created.push('tunnel');
  let dnsRecordId: string;
  let recordCreatedNow: string | undefined;
  try {
    const record = await ensureCname(ctx, intent, tunnel.id);
    dnsRecordId = record.id;
    if (record.created) {
      created.push('dnsRecord');
      recordCreatedNow = record.id;
    }
    await ensureIngress(ctx, intent, tunnel.id);
  } catch (e) {
    // A tenant without its route is not worth keeping half-made: roll back what this call made
    // (a tunnel adopted from an earlier run may already serve an instance, so it stays).
    ctx.audit({ kind: 'tunnel', resourceId: tunnel.id, orgId: intent.orgId, state: 'failed', details: { error: auditableError(ctx, e) } });
    if (tunnel.created) {
      if (recordCreatedNow) {
        await deleteRecord(ctx, { id: recordCreatedNow, name: hostname(intent.slug, ctx.wiring.appDomain) }, intent.orgId).catch(() => undefined);
      }
      await deleteTunnel(ctx, tunnel, intent.orgId).then(
        () => ctx.audit({ kind: 'tunnel', resourceId: tunnel.id, orgId: intent.orgId, state: 'rolledBack' }),
        (rollbackError: unknown) => ctx.warn(`rolling back tunnel ${tunnel.id} failed too: ${auditableError(ctx, rollbackError)}`),
      );
    }
    throw e;
  }

  const token = await getTunnelToken(ctx, tunnel.id);
  const bundle = await ensureBundle(ctx, intent, token);
  if (bundle.created) created.push('secret');

  const identity = { role: 'tenant' as const, orgId: intent.orgId, slug: intent.slug };
  const owner = { ...identity, deletionProtection: intent.deletionProtection };
  const group = await ensureGroup(ctx, owner, ctx.wiring.vpcId ? await tenantPermissions(ctx, owner) : []);
  if (group.created) created.push('securityGroup');

  const instance = await ensureInstance(ctx, {
    ...identity,
    instanceType: intent.instanceType,
    volumeGb: intent.volumeGb,
    ami: intent.ami,
    securityGroupId: group.groupId,
    name: `tenantform-${ctx.wiring.environment}-${intent.slug}`,
    userData: tenantUserData({
      region: ctx.wiring.region,
      orgId: intent.orgId,
      slug: intent.slug,
      bundleName: bundle.name,
      image: intent.image,
      platformPort: ctx.fleet.tenant.platformPort,
    }),
    tags: {
      [Tag.image]: intent.image,
      [Tag.tunnelId]: tunnel.id,
      [Tag.deletionProtection]: String(intent.deletionProtection),
    },
  });
  if (instance.created) created.push('instance');
  if (intent.power === 'stopped' && instance.state !== 'stopped') {
    await drivePower(ctx, instance.instanceId, 'stopped', 'stop tenant instance');
    ctx.audit({ kind: 'instance', resourceId: instance.instanceId, orgId: intent.orgId, state: 'stopped' });
  }

  return { tunnelId: tunnel.id, dnsRecordId: dnsRecordId!, secretName: bundle.name, securityGroupId: group.groupId, instanceId: instance.instanceId, created };
}

/**
 * Bring a partly-provisioned tenant back to the contract. Every step is an ensure, so the plan's
 * steps only decide whether a purged org's slug artifacts are cleaned first; a secret scheduled
 * for deletion is restored by the secret step.
 */
export async function repairTenant(ctx: ActContext, intent: TenantIntent, steps: Step[] = []): Promise<TenantOutcome> {
  const outcome = await createTenant(ctx, intent, { cleanStale: steps.some((s) => s.resource === 'staleArtifacts') });
  // A tunnel made for a standing instance: its TunnelID tag still names the one that is gone.
  if (steps.some((s) => s.resource === 'tags' && s.op === 'modify' && s.id === outcome.instanceId)) {
    await setResourceTags(ctx, outcome.instanceId, intent.orgId, { [Tag.tunnelId]: outcome.tunnelId });
  }
  return outcome;
}

export interface DeleteTenantOptions {
  /** Secrets Manager recovery window; 0 deletes without recovery. Default 7 days. */
  recoveryWindowDays?: number;
  /**
   * The cascade a plan recorded: only these ids are terminated and deleted (apply passes it; the
   * stale-plan check has refused a plan when something appeared since). Without it, everything
   * live that carries the org's tags or the tenant's names is found and deleted.
   */
  recorded?: TenantCascade;
}

/**
 * Cascade, in order: workspace instances (all carrying the OrgID), the tenant instance, every
 * security group of the org, the secret bundle, the CNAME, the tunnel. Instances are waited for
 * under the termination deadline; a stuck shutdown throws DeadlineExceeded naming the instance, and
 * nothing after it runs, so the next apply retries from there. First of all, the live
 * DeletionProtection tags are read again: a protected tenant is refused (GuardRefusal) untouched.
 */
export async function deleteTenant(ctx: ActContext, tenant: TenantIdentity, opts: DeleteTenantOptions = {}): Promise<void> {
  await refuseIfProtected(ctx, tenant, 'delete tenant');
  if (opts.recorded) return deleteRecordedCascade(ctx, opts.recorded, opts.recoveryWindowDays);
  for (const role of ['workspace', 'tenant'] as const) {
    const instances = await findOrgInstances(ctx, tenant.orgId, role);
    const ids = instances.map((i) => i.InstanceId!).filter(Boolean);
    await terminateInstances(ctx, ids);
    await waitForState(ctx, ids, 'terminated', ctx.deadlines.terminationMs, `terminate ${role} instances of ${describeIdentity({ role: 'tenant', ...tenant })}`);
    for (const i of instances) {
      const workspaceId = i.Tags?.find((t) => t.Key === Tag.workspaceId)?.Value;
      ctx.audit({ kind: 'instance', resourceId: i.InstanceId!, orgId: tenant.orgId, ...(workspaceId ? { workspaceId } : {}), state: 'deleted', details: { role } });
    }
  }

  const groups = new Map((await findOwnedGroups(ctx, tenant.orgId)).map((g) => [g.GroupId!, g]));
  const byName = ctx.wiring.vpcId ? await findGroupByName(ctx, groupName(ctx, { role: 'tenant', ...tenant })) : undefined;
  if (byName?.GroupId) groups.set(byName.GroupId, byName);
  // Workspace groups before the tenant's, mirroring the instance order.
  const ordered = [...groups.values()].sort((a, b) => rank(a) - rank(b));
  for (const g of ordered) {
    const workspaceId = g.Tags?.find((t) => t.Key === Tag.workspaceId)?.Value;
    await deleteGroup(ctx, g.GroupId!, { orgId: tenant.orgId, ...(workspaceId ? { workspaceId } : {}) });
  }

  await deleteBundle(ctx, tenant.orgId, opts.recoveryWindowDays ?? ctx.fleet.deletion?.secretRecoveryWindowDays ?? DEFAULT_RECOVERY_WINDOW_DAYS);

  if (tenant.slug) {
    for (const r of await findTenantCnames(ctx, tenant)) await deleteRecord(ctx, r, tenant.orgId);
  }
  for (const t of await findOrgTunnels(ctx, tenant.orgId)) await deleteTunnel(ctx, t, tenant.orgId);
}

/**
 * The same cascade, over the ids a plan recorded: workspace instances, the tenant's, wait until
 * they are gone, workspace groups then the tenant's, the bundle, the records, the tunnels.
 */
async function deleteRecordedCascade(ctx: ActContext, c: TenantCascade, recoveryWindowDays: number | undefined): Promise<void> {
  const who = describeIdentity({ role: 'tenant', orgId: c.orgId, slug: c.slug });
  for (const role of ['workspace', 'tenant'] as const) {
    const instances = c.instances.filter((i) => (role === 'workspace') === (i.workspaceId !== undefined));
    const ids = instances.map((i) => i.id);
    const live = ids.length === 0 ? new Map() : await instanceStates(ctx, ids);
    // An id AWS has forgotten, or one already terminated, is gone: only the rest are terminated.
    const standing = ids.filter((id) => live.has(id) && live.get(id)!.State?.Name !== 'terminated');
    await terminateInstances(ctx, standing);
    await waitForState(ctx, standing, 'terminated', ctx.deadlines.terminationMs, `terminate ${role} instances of ${who}`);
    for (const i of instances) {
      ctx.audit({ kind: 'instance', resourceId: i.id, orgId: c.orgId, ...(i.workspaceId ? { workspaceId: i.workspaceId } : {}), state: 'deleted', details: { role } });
    }
  }
  const groups = [...c.securityGroups].sort((a, b) => Number(a.workspaceId === undefined) - Number(b.workspaceId === undefined));
  for (const g of groups) await deleteGroup(ctx, g.id, { orgId: c.orgId, ...(g.workspaceId ? { workspaceId: g.workspaceId } : {}) });
  // The bundle's name is the org's (one per org and environment): the recorded ARN is that secret.
  if (c.secrets.length > 0) await deleteBundle(ctx, c.orgId, recoveryWindowDays ?? ctx.fleet.deletion?.secretRecoveryWindowDays ?? DEFAULT_RECOVERY_WINDOW_DAYS);
  for (const r of c.dnsRecords) await deleteRecord(ctx, r, c.orgId);
  for (const t of c.tunnels) await deleteTunnel(ctx, t, c.orgId);
}

function rank(g: { Tags?: Array<{ Key?: string; Value?: string }> }): number {
  return g.Tags?.find((t) => t.Key === Tag.role)?.Value === 'workspace' ? 0 : 1;
}

/** The bundle name a tenant's instances read (workspaces read the pull token from it). */
export function tenantBundleName(ctx: ActContext, orgId: string): string {
  return secretName(ctx.wiring.environment, orgId);
}
