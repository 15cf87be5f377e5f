/**
 * A declared tenant's `update`: what changes in place on resources that exist — the tunnel's
 * name, the hostname, tags, the platform port rules and the bundle's backup settings.
 *
 * - Tags that matter: OrgSlug and DeletionProtection (only the literal `true`, any case,
 *   protects) on the tenant's instance, security groups and live secret; OrgSlug, Tier and the
 *   tenant's DeletionProtection on a workspace instance, OrgSlug and DeletionProtection on its
 *   security groups (a protected tenant's workspaces carry the tag too). A slug change also renames the tunnel,
 *   the DNS record and its ingress hostname (`update`). Hostnames compare case-insensitively.
 * - Platform port. A tenant group whose observed ingress opens to address ranges anything but
 *   exactly tcp/`fleet.tenant.platformPort` (a port change, a hand-opened range) gets a
 *   `securityGroup modify` step in the tenant's `update`; apply then makes its rules the
 *   contract's. Group-sourced rules (tcp/22 from the EIC group) are not compared here; rules not
 *   observed (undefined) never are.
 * - Bundle content. Plan reads no secret value: the bundle's `BackupConfig` tag (missing = `off`)
 *   stands for the TENANT_BACKUP_* settings it holds. When `opts.backup` is given and differs, the
 *   tenant's `update` rewrites the bundle (`secret modify`) and the platform re-reads it over SSM
 *   (`command run`, bracketed by start/stop when the instance is stopped).
 */
import { Tag, backupConfigTag, tunnelName } from '../contract.js';
import type { DesiredTenant } from '../desired/model.js';
import type { LiveDnsRecord, LiveInstance, LiveSecret, LiveSecurityGroup, LiveTunnel } from '../live/model.js';
import { action, type PlanContext } from './context.js';
import { runOnInstance } from './instance.js';
import { declaredIntent } from './intent-build.js';
import type { Action, ActionTarget, Attributes, Step } from './model.js';
import { compareText, isProtectedTag, normaliseHost, powerOf } from './normalise.js';

interface TenantTagged {
  instance: LiveInstance | undefined;
  groups: LiveSecurityGroup[];
  secrets: LiveSecret[];
  tunnel: LiveTunnel | undefined;
  record: LiveDnsRecord | undefined;
  expectedHost: string;
}

export function planTenantUpdate(ctx: PlanContext, d: DesiredTenant, target: ActionTarget, p: TenantTagged): Action | undefined {
  const { orgId, slug } = d.spec;
  const steps: Step[] = [];
  const before: Attributes = {};
  const after: Attributes = {};
  const why: string[] = [];

  const expectedTunnelName = tunnelName(ctx.env, slug, orgId);
  if (p.tunnel && p.tunnel.name !== expectedTunnelName) {
    steps.push({ resource: 'tunnel', op: 'modify', id: p.tunnel.id });
    before.tunnelName = p.tunnel.name;
    after.tunnelName = expectedTunnelName;
    why.push('tunnel name');
  }
  if (p.tunnel && p.record && normaliseHost(p.record.name) !== p.expectedHost) {
    steps.push({ resource: 'dnsRecord', op: 'modify', id: p.record.id }, { resource: 'ingress', op: 'modify', id: p.tunnel.id });
    before.hostname = p.record.name;
    after.hostname = p.expectedHost;
    why.push('hostname');
  }
  const tagged: { id: string; tags: Record<string, string> }[] = [
    ...(p.instance ? [{ id: p.instance.instanceId, tags: p.instance.tags }] : []),
    ...p.groups.map((g) => ({ id: g.groupId, tags: g.tags })),
    ...p.secrets.map((s) => ({ id: s.arn, tags: s.tags })),
  ];
  let slugDiffers = false;
  let protectionDiffers = false;
  for (const r of tagged) {
    const liveSlug = r.tags?.[Tag.orgSlug];
    const liveProtected = isProtectedTag(r.tags);
    if (liveSlug !== slug && !slugDiffers) {
      slugDiffers = true;
      before.slug = liveSlug ?? null;
      after.slug = slug;
    }
    if (liveProtected !== d.spec.deletionProtection && !protectionDiffers) {
      protectionDiffers = true;
      before.deletionProtection = liveProtected;
      after.deletionProtection = d.spec.deletionProtection;
    }
    if (liveSlug !== slug || liveProtected !== d.spec.deletionProtection) steps.push({ resource: 'tags', op: 'modify', id: r.id });
  }
  if (slugDiffers) why.push(`${Tag.orgSlug} tag`);
  if (protectionDiffers) why.push(`${Tag.deletionProtection} tag`);
  const port = ctx.fleet.tenant.platformPort;
  for (const g of p.groups) {
    const open = cidrPorts(g);
    if (open === undefined || (open.length === 1 && open[0] === String(port))) continue;
    if (!('platformPort' in before)) {
      before.platformPort = open.length === 0 ? null : open.join(', ');
      after.platformPort = port;
      why.push('platform port rules');
    }
    steps.push({ resource: 'securityGroup', op: 'modify', id: g.groupId });
  }
  // Backup settings live in the bundle: rewrite it and let the platform re-read it, as for a new tunnel token.
  const bundle = p.secrets[0];
  if (ctx.backup !== undefined && bundle) {
    const want = backupConfigTag(orgId, ctx.backup);
    const have = bundle.tags?.[Tag.backupConfig] ?? 'off';
    if (have !== want) {
      steps.push({ resource: 'secret', op: 'modify', id: bundle.arn });
      if (p.instance) steps.push(...runOnInstance(p.instance.instanceId, powerOf(p.instance.state)));
      before.backups = have;
      after.backups = want;
      why.push('backup settings (TENANT_BACKUP_*)');
    }
  }
  if (steps.length === 0) return undefined;
  // The record name a hostname move leaves, so apply can delete it by id and name it.
  const previousHostname = typeof before.hostname === 'string' ? before.hostname : undefined;
  return action('update', target, steps, before, after, `${why.join(', ')} differ from the declaration`, declaredIntent(d, undefined, previousHostname));
}

/**
 * The ports a tenant group opens to address ranges (CIDRs, prefix lists): by contract exactly the
 * platform port, from the VPC CIDR (tcp/22 comes only from the EIC group, a group source). "8080",
 * or "udp 0-65535" for anything that is not a single tcp port. Undefined when rules were not observed.
 */
function cidrPorts(g: LiveSecurityGroup): string[] | undefined {
  if (g.ingress === undefined) return undefined;
  const ports = g.ingress
    .filter((r) => !r.source.startsWith('sg:'))
    .map((r) =>
      r.protocol === 'tcp' && r.fromPort !== undefined && r.fromPort === r.toPort ? String(r.fromPort) : `${r.protocol} ${r.fromPort ?? ''}-${r.toPort ?? ''}`,
    );
  return [...new Set(ports)].sort(compareText);
}
