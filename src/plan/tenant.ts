/**
 * A declared tenant: create it when nothing is live, else repair what is missing, then its
 * instance's changes (instance.ts), its tag/name/port/bundle update (tenant-update.ts), and its
 * workspaces (workspace.ts) after its own actions.
 *
 * - Partial tenants. Nothing live (ignoring a scheduled secret) → `create`. Anything live →
 *   `repair` with only the missing steps. A CNAME or tunnel existing does not prove ingress is
 *   configured (only drift can read it, per tunnel), so ingress is rewritten whenever the DNS
 *   record is created or re-pointed. A DNS record counts only when it is a proxied CNAME to
 *   `<tunnel-id>.cfargotunnel.com` of a live tunnel; otherwise it is re-pointed (`modify`). A
 *   recreated tunnel has a new token, so the secret bundle is rewritten (and a standing instance's
 *   TunnelID tag re-stamped, a `tags modify` step) and the platform
 *   re-reads it over SSM (`command run`).
 */
import { hostname, Tag, tunnelTarget } from '../contract.js';
import type { DesiredTenant, DesiredWorkspace } from '../desired/model.js';
import type { LiveDnsRecord, LiveInstance, LiveSecret, LiveTenant, LiveTunnel } from '../live/model.js';
import { action, actionRank, flagDuplicates, type PlanContext } from './context.js';
import { planInstanceChanges, runOnInstance, type InstanceIntent } from './instance.js';
import { declaredIntent } from './intent-build.js';
import type { Action, ActionTarget, Attributes, Step } from './model.js';
import { byAge, compareText, isExisting, normaliseHost, powerOf, tunnelsByAge } from './normalise.js';
import { planTenantUpdate } from './tenant-update.js';
import { planDeclaredWorkspace, planWorkspaceDelete } from './workspace.js';

export function planDeclaredTenant(ctx: PlanContext, d: DesiredTenant, live: LiveTenant | undefined): Action[] {
  const { orgId, slug } = d.spec;
  const target: ActionTarget = { kind: 'tenant', orgId, slug };
  const instances = (live?.instances ?? []).filter(isExisting).sort(byAge);
  const groups = [...(live?.securityGroups ?? [])].sort((a, b) => compareText(a.groupId, b.groupId));
  const secrets = [...(live?.secrets ?? [])].sort((a, b) => compareText(a.arn, b.arn));
  const activeSecrets = secrets.filter((s) => !s.deletedDate);
  const scheduledSecret = secrets.find((s) => s.deletedDate);
  const tunnels = [...(live?.tunnels ?? [])].sort(tunnelsByAge);
  const records = [...(live?.dnsRecords ?? [])].sort((a, b) => compareText(a.id, b.id));
  const expectedHost = hostname(slug, ctx.fleet.appDomain);

  flagDuplicates(ctx, target, [
    ['instances', instances.map((i) => i.instanceId)],
    ['security groups', groups.map((g) => g.groupId)],
    ['secrets', activeSecrets.map((s) => s.arn)],
    ['tunnels', tunnels.map((t) => t.id)],
    ['DNS records', records.map((r) => r.id)],
  ]);

  const record = records.find((r) => normaliseHost(r.name) === expectedHost) ?? records[0];
  const tunnel = (record && tunnels.find((t) => normaliseHost(record.content) === tunnelTarget(t.id))) ?? tunnels[0];
  const instance = instances[0];
  const secret = activeSecrets[0];
  const actions: Action[] = [];

  if (!instance && groups.length === 0 && !secret && tunnels.length === 0 && records.length === 0) {
    const steps: Step[] = [
      { resource: 'staleArtifacts', op: 'create' },
      { resource: 'tunnel', op: 'create' },
      { resource: 'dnsRecord', op: 'create' },
      { resource: 'ingress', op: 'create' },
      scheduledSecret ? { resource: 'secret', op: 'restore', id: scheduledSecret.arn } : { resource: 'secret', op: 'create' },
      { resource: 'securityGroup', op: 'create' },
      { resource: 'instance', op: 'create' },
      ...(d.spec.power === 'stopped' ? [{ resource: 'instance', op: 'stop' } as Step] : []),
    ];
    const reason = scheduledSecret
      ? 'declared, nothing live; its secret bundle is scheduled for deletion and is restored rather than regenerated'
      : 'declared, nothing live';
    actions.push(action('create', target, steps, null, tenantAttributes(d), reason, declaredIntent(d)));
  } else {
    const repair = planTenantRepair(d, target, { instance, hasGroup: groups.length > 0, secret, scheduledSecret, tunnel, record, expectedHost });
    if (repair) actions.push(repair);
    if (instance) actions.push(...planInstanceChanges(ctx, target, instance, instanceIntent(d)));
    const update = planTenantUpdate(ctx, d, target, {
      instance: actions.some((a) => a.replacement) ? undefined : instance,
      groups,
      secrets: activeSecrets,
      tunnel,
      record,
      expectedHost,
    });
    if (update) actions.push(update);
  }

  const liveWorkspaces = live?.workspaces ?? {};
  const declaredWorkspaces = new Map<string, DesiredWorkspace>();
  for (const w of [...d.workspaces].sort((a, b) => compareText(a.spec.id, b.spec.id))) {
    if (!declaredWorkspaces.has(w.spec.id)) declaredWorkspaces.set(w.spec.id, w);
  }
  const workspaceActions: Action[] = [];
  for (const [id, w] of declaredWorkspaces) workspaceActions.push(...planDeclaredWorkspace(ctx, d, w, liveWorkspaces[id]));
  for (const id of Object.keys(liveWorkspaces)) {
    if (declaredWorkspaces.has(id)) continue;
    const del = planWorkspaceDelete(ctx, d.spec.slug, orgId, id, liveWorkspaces[id]!);
    if (del) workspaceActions.push(del);
  }
  workspaceActions.sort((a, b) => compareText(a.target.workspaceId ?? '', b.target.workspaceId ?? '') || actionRank(a) - actionRank(b));
  actions.sort((a, b) => actionRank(a) - actionRank(b));
  return [...actions, ...workspaceActions];
}

function tenantAttributes(d: DesiredTenant): Attributes {
  return {
    slug: d.spec.slug,
    instanceType: d.effective.instanceType,
    volumeGb: d.effective.volumeGb,
    ami: d.effective.ami,
    image: d.effective.image,
    power: d.spec.power,
    canary: d.spec.canary,
    deletionProtection: d.spec.deletionProtection,
  };
}

function instanceIntent(d: DesiredTenant): InstanceIntent {
  return {
    instanceType: d.effective.instanceType,
    volumeGb: d.effective.volumeGb,
    ami: d.effective.ami,
    power: d.spec.power,
    image: d.effective.image.trim() === '' ? undefined : d.effective.image.trim(),
    replaceBecause: [],
    createAttributes: tenantAttributes(d),
    declared: declaredIntent(d),
  };
}

interface TenantParts {
  instance: LiveInstance | undefined;
  hasGroup: boolean;
  secret: LiveSecret | undefined;
  scheduledSecret: LiveSecret | undefined;
  tunnel: LiveTunnel | undefined;
  record: LiveDnsRecord | undefined;
  expectedHost: string;
}

function planTenantRepair(d: DesiredTenant, target: ActionTarget, p: TenantParts): Action | undefined {
  const steps: Step[] = [];
  const before: Attributes = {};
  const after: Attributes = {};
  const missing: string[] = [];
  const tunnelMissing = !p.tunnel;

  if (!p.tunnel) {
    steps.push({ resource: 'tunnel', op: 'create' });
    before.tunnel = 'absent';
    after.tunnel = 'present';
    missing.push('tunnel');
  }
  const nameWrong = p.record !== undefined && normaliseHost(p.record.name) !== p.expectedHost;
  const pointsAtTunnel =
    p.record !== undefined &&
    p.tunnel !== undefined &&
    p.record.type.toUpperCase() === 'CNAME' &&
    p.record.proxied &&
    normaliseHost(p.record.content) === tunnelTarget(p.tunnel.id);
  const ingress: Step = p.tunnel ? { resource: 'ingress', op: 'create', id: p.tunnel.id } : { resource: 'ingress', op: 'create' };
  if (!p.record) {
    steps.push({ resource: 'dnsRecord', op: 'create' }, ingress);
    before.dnsRecord = 'absent';
    after.dnsRecord = 'present';
    missing.push('DNS record (ingress is written with it)');
  } else if (tunnelMissing || (!pointsAtTunnel && !nameWrong)) {
    // A rename (nameWrong) re-points the record in the update action instead.
    steps.push({ resource: 'dnsRecord', op: 'modify', id: p.record.id }, ingress);
    before.dnsRecord = `${p.record.type} ${p.record.content}${p.record.proxied ? '' : ' (not proxied)'}`;
    after.dnsRecord = p.tunnel ? `CNAME ${tunnelTarget(p.tunnel.id)} (proxied)` : 'CNAME to the new tunnel (proxied)';
    missing.push('DNS record pointing at the tunnel (ingress is rewritten with it)');
  }
  if (!p.secret) {
    if (p.scheduledSecret) {
      steps.push({ resource: 'secret', op: 'restore', id: p.scheduledSecret.arn });
      before.bootstrapBundle = 'scheduled for deletion';
      missing.push('secret bundle (scheduled for deletion: restored, never regenerated)');
    } else {
      steps.push({ resource: 'secret', op: 'create' });
      before.bootstrapBundle = 'absent';
      missing.push('secret bundle');
    }
    after.bootstrapBundle = 'present';
  }
  const bundle = p.secret ?? p.scheduledSecret;
  if (tunnelMissing && bundle) steps.push({ resource: 'secret', op: 'modify', id: bundle.arn });
  if (!p.hasGroup) {
    steps.push({ resource: 'securityGroup', op: 'create' });
    before.securityGroup = 'absent';
    after.securityGroup = 'present';
    missing.push('security group');
  }
  if (!p.instance) {
    steps.push({ resource: 'instance', op: 'create' });
    if (d.spec.power === 'stopped') steps.push({ resource: 'instance', op: 'stop' });
    before.instance = 'absent';
    after.instance = 'present';
    missing.push('instance');
  } else if (tunnelMissing) {
    // The standing instance's TunnelID tag names the tunnel that is gone: stamp the new one.
    steps.push({ resource: 'tags', op: 'modify', id: p.instance.instanceId });
    before.tunnelIdTag = p.instance.tags[Tag.tunnelId] ?? null;
    after.tunnelIdTag = 'the new tunnel';
    steps.push(...runOnInstance(p.instance.instanceId, powerOf(p.instance.state)));
  }
  if (steps.length === 0) return undefined;
  const tail =
    tunnelMissing && p.instance
      ? `; the new tunnel token is written to the bundle and the platform re-reads it, and the instance's ${Tag.tunnelId} tag names the new tunnel`
      : '';
  return action('repair', target, steps, before, after, `partly provisioned: missing ${missing.join(', ')}${tail}`, declaredIntent(d));
}
