/**
 * The act steps the per-resource modules do not cover, composed from their primitives: in-place
 * updates (tags, a tunnel rename, a hostname move) and the delete half of an instance replacement.
 * Each reads before it writes, so a re-run is a no-op.
 */
import { CreateTagsCommand, type Instance } from '@aws-sdk/client-ec2';
import { TagResourceCommand } from '@aws-sdk/client-secrets-manager';
import { Tag, tunnelName } from '../contract.js';
import type { TenantIntent, WorkspaceIntent } from '../plan/intent.js';
import type { Action } from '../plan/model.js';
import { CloudError } from '../errors.js';
import { kindOfLiveId } from '../kinds.js';
import { awsCall, cloudflareCall } from './cloud.js';
import type { ActContext } from './context.js';
import { deleteRecord, ensureCname } from './dns.js';
import { ensureIngress } from './ingress.js';
import { reconcileGroupRules } from './security-group.js';
import { describeIdentity, findInstances, instanceStates, terminateInstances, waitForState, type InstanceIdentity } from './instance.js';
import { redeploy, startTarget, stopTarget } from './lifecycle.js';
import { ensureBundle } from './secret.js';
import { findTunnel, getTunnelToken } from './tunnel.js';
import { refuseIfProtected } from './protection.js';

/** Sets tags on an EC2 resource (instance or group) or a Secrets Manager secret (ARN or name). */
export async function setResourceTags(ctx: ActContext, resourceId: string, orgId: string, tags: Record<string, string>, workspaceId?: string): Promise<void> {
  const pairs = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
  const kind = kindOfLiveId(resourceId);
  if (kind === 'instance' || kind === 'securityGroup') {
    await awsCall(ctx, 'ec2', 'CreateTags', resourceId, () => ctx.aws.ec2.send(new CreateTagsCommand({ Resources: [resourceId], Tags: pairs })));
  } else {
    await awsCall(ctx, 'secretsmanager', 'TagResource', `secret ${resourceId}`, () =>
      ctx.aws.secrets.send(new TagResourceCommand({ SecretId: resourceId, Tags: pairs })),
    );
  }
  ctx.audit({
    kind: kind === 'instance' || kind === 'securityGroup' ? kind : 'secret',
    resourceId,
    orgId,
    ...(workspaceId ? { workspaceId } : {}),
    state: 'updated',
    details: { tags: Object.keys(tags).sort().join(',') },
  });
}

/**
 * A tenant `update`: tunnel rename, hostname move (CNAME + ingress), OrgSlug / DeletionProtection
 * tags, group rules (platform port), and a bundle rewrite (backup settings) that the platform then re-reads over SSM.
 * `previousHostname`: the record name a hostname move leaves (the plan's intent records it).
 */
export async function updateTenant(ctx: ActContext, action: Action, tenant: TenantIntent, previousHostname?: string): Promise<void> {
  const { orgId, slug } = tenant;
  const { client, accountId } = ctx.cloudflare;
  const tunnelStep = action.steps.find((s) => s.resource === 'ingress' && s.id) ?? action.steps.find((s) => s.resource === 'tunnel' && s.id);
  for (const step of action.steps) {
    if (step.resource === 'tunnel' && step.op === 'modify' && step.id) {
      const name = tunnelName(ctx.wiring.environment, slug, orgId);
      await cloudflareCall(ctx, 'rename tunnel', `tunnel ${step.id}`, () => client.zeroTrust.tunnels.cloudflared.edit(step.id!, { account_id: accountId, name }));
      ctx.audit({ kind: 'tunnel', resourceId: step.id, orgId, state: 'updated', details: { name } });
    } else if (step.resource === 'dnsRecord' && step.op === 'modify' && step.id && tunnelStep?.id) {
      // The hostname moved: the record at the new host is made (or adopted) first, so the tenant
      // stays reachable under one of its names throughout; then the old one goes.
      const record = await ensureCname(ctx, { orgId, slug }, tunnelStep.id);
      await ensureIngress(ctx, { orgId, slug }, tunnelStep.id);
      if (record.id !== step.id) {
        await deleteRecord(ctx, { id: step.id, name: previousHostname ?? step.id }, orgId);
      }
    } else if (step.resource === 'tags' && step.op === 'modify' && step.id) {
      await setResourceTags(ctx, step.id, orgId, { [Tag.orgSlug]: slug, [Tag.deletionProtection]: String(tenant.deletionProtection) });
    } else if (step.resource === 'securityGroup' && step.op === 'modify' && step.id) {
      await reconcileGroupRules(ctx, step.id, { role: 'tenant', orgId, slug });
    } else if (step.resource === 'secret' && step.op === 'modify') {
      await rewriteBundle(ctx, tenant);
    } else if (step.resource === 'instance' && step.op === 'start') {
      await startTarget(ctx, { role: 'tenant', orgId, slug });
    } else if (step.resource === 'command' && step.op === 'run') {
      await refreshPlatform(ctx, tenant);
    } else if (step.resource === 'instance' && step.op === 'stop') {
      await stopTarget(ctx, { role: 'tenant', orgId, slug });
    }
  }
}

/** Brings the bundle's wired values (backup settings among them) up to date; generated values are kept. */
async function rewriteBundle(ctx: ActContext, tenant: TenantIntent): Promise<void> {
  const { orgId, slug } = tenant;
  const tunnel = await findTunnel(ctx, { orgId, slug });
  if (!tunnel) {
    throw new CloudError(`tunnel ${tunnelName(ctx.wiring.environment, slug, orgId)} is gone; the next plan repairs the tenant`, {
      operation: 'rewrite bootstrap bundle',
      resource: `tenant ${slug} (org ${orgId})`,
    });
  }
  await ensureBundle(ctx, { orgId, slug, deletionProtection: tenant.deletionProtection }, await getTunnelToken(ctx, tunnel.id));
}

/**
 * The platform re-reads its bundle when its container is recreated: the redeploy script, run with
 * the image the instance already runs (its Image tag), so no image moves outside a rollout wave.
 */
async function refreshPlatform(ctx: ActContext, tenant: TenantIntent): Promise<void> {
  const identity = { role: 'tenant' as const, orgId: tenant.orgId, slug: tenant.slug };
  const [instance] = await findInstances(ctx, identity);
  const image = instance?.Tags?.find((t) => t.Key === Tag.image)?.Value || tenant.image;
  const [result] = await redeploy(ctx, [{ target: identity, image }]);
  if (!result?.ok) {
    throw new CloudError(`the platform could not re-read its bundle over SSM (${result?.status ?? 'no result'})`, {
      operation: 'refresh platform',
      resource: describeIdentity(identity),
    });
  }
}

/** A workspace `update`: OrgSlug and the tenant's DeletionProtection on its instance and groups, Tier on its instance. */
export async function updateWorkspace(ctx: ActContext, action: Action, ws: WorkspaceIntent): Promise<void> {
  for (const step of action.steps) {
    if (step.resource !== 'tags' || step.op !== 'modify' || !step.id) continue;
    const tags: Record<string, string> = { [Tag.orgSlug]: ws.slug, [Tag.deletionProtection]: String(ws.deletionProtection ?? false) };
    if (kindOfLiveId(step.id) === 'instance') tags[Tag.tier] = ws.tier;
    await setResourceTags(ctx, step.id, ws.orgId, tags, ws.workspaceId);
  }
}

/**
 * The delete half of a replacement: re-read the live DeletionProtection tags (refusing a
 * protected tenant or workspace), then terminate the instance(s) the plan named, under the
 * termination deadline, and nothing else (the group, bundle and route stay for the new instance).
 */
export async function terminateForReplacement(ctx: ActContext, action: Action): Promise<void> {
  const t = action.target;
  const identity: InstanceIdentity =
    t.kind === 'tenant' ? { role: 'tenant', orgId: t.orgId, slug: t.slug } : { role: 'workspace', orgId: t.orgId, slug: t.slug, workspaceId: t.workspaceId! };
  await refuseIfProtected(ctx, { orgId: t.orgId, slug: t.slug, ...(t.workspaceId ? { workspaceId: t.workspaceId } : {}) }, 'replace instance');
  const planned = action.intent.kind === 'instanceReplace' ? action.intent.instanceIds : [];
  const live = planned.length === 0 ? new Map<string, Instance>() : await instanceStates(ctx, planned);
  // The recorded ids that still stand (the stale-plan check has made sure they are this target's).
  const ids = planned.filter((id) => live.has(id) && live.get(id)!.State?.Name !== 'terminated');
  await terminateInstances(ctx, ids);
  await waitForState(ctx, ids, 'terminated', ctx.deadlines.terminationMs, `replace instance of ${describeIdentity(identity)}`);
  for (const id of ids) {
    ctx.audit({
      kind: 'instance',
      resourceId: id,
      orgId: t.orgId,
      ...(t.workspaceId ? { workspaceId: t.workspaceId } : {}),
      state: 'deleted',
      details: { replacement: true },
    });
  }
}
