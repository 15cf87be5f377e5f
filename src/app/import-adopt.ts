/**
 * What `import --adopt` would do to one tenant, worked out before anything is touched: the
 * adoption steps (tags, the tunnel's name, the DNS comment, the bundle's copy; src/apply/import-adopt.ts
 * acts them out) and the inventory as plan would observe it afterwards, so the planner can be
 * asked whether adoption alone makes the tenant clean.
 *
 * Tags are the ones tenantform's own creates stamp (src/apply/instance.ts, security-group.ts,
 * secret.ts), merged by the adoption rule of src/apply/adopt-tags.ts (identity tags are filled in,
 * never overwritten). `Image` is stamped only when it is known: the instance's own tag, or the
 * declared image when the operator says the control plane ran it (`--assume-declared-images`);
 * otherwise it stays absent and the plan shows a redeploy, which refuses the adoption.
 *
 * Order per tenant: security groups, bundle, tunnel, DNS record, workspace volumes and
 * instances, and the tenant's root volume and instance last. The tenant instance's ManagedBy tag
 * is the mark of a finished adoption (src/live/import/observe.ts), so an interrupted run is
 * found again and resumed.
 */
import { Tag, baseTags, dnsComment, secretName, tenantSecurityGroupName, tunnelName, workspaceSecurityGroupName } from '../contract.js';
import { tagsToStamp } from '../apply/adopt-tags.js';
import type { AdoptionStep } from '../apply/import-adopt.js';
import type { DesiredTenant } from '../desired/model.js';
import type { ImportInstance, ImportTenant } from '../live/import/model.js';
import type { Observations } from '../live/join.js';
import type { LiveSecurityGroup } from '../live/model.js';

export interface TenantAdoption {
  steps: AdoptionStep[];
  projected: Observations;
  /** What stops this tenant from being adopted (a workspace live but not declared, …). */
  problems: string[];
}

export function planTenantAdoption(env: string, t: ImportTenant, d: DesiredTenant, assumeDeclaredImages: boolean): TenantAdoption {
  const { orgId, slug } = t;
  const protect = String(d.spec.deletionProtection);
  const steps: AdoptionStep[] = [];
  const problems: string[] = [];
  const projected: Observations = { instances: [], securityGroups: [], secrets: [], tunnels: [], dnsRecords: [] };

  const ws = (want: Record<string, string>) => (want[Tag.workspaceId] ? { workspaceId: want[Tag.workspaceId] } : {});
  const group = (g: LiveSecurityGroup | undefined, want: Record<string, string>): void => {
    if (!g) return;
    const stamp = tagsToStamp(want, g.tags);
    if (Object.keys(stamp).length > 0) steps.push({ kind: 'tags', resource: 'securityGroup', id: g.groupId, orgId, tags: stamp, ...ws(want) });
    projected.securityGroups.push({ ...g, tags: { ...g.tags, ...stamp } });
  };
  const instance = (i: ImportInstance, want: Record<string, string>): void => {
    const { rootVolumeTags, ...live } = i;
    if (live.rootVolumeId && rootVolumeTags) {
      const v = tagsToStamp(want, rootVolumeTags);
      if (Object.keys(v).length > 0) steps.push({ kind: 'tags', resource: 'volume', id: live.rootVolumeId, orgId, tags: v, instanceId: live.instanceId, ...ws(want) });
    }
    const stamp = tagsToStamp(want, live.tags);
    if (Object.keys(stamp).length > 0) steps.push({ kind: 'tags', resource: 'instance', id: live.instanceId, orgId, tags: stamp, ...ws(want) });
    projected.instances.push({ ...live, tags: { ...live.tags, ...stamp } });
  };
  const image = (i: ImportInstance, declared: string | undefined): Record<string, string> => {
    const known = i.tags[Tag.image]?.trim() || (assumeDeclaredImages ? declared?.trim() : undefined);
    return known ? { [Tag.image]: known } : {};
  };

  // Security groups: the tenant's, then each workspace's.
  group(t.securityGroup, { ...baseTags(env, 'tenant', orgId, slug), [Tag.name]: tenantSecurityGroupName(env, orgId), [Tag.deletionProtection]: protect });
  const declared = new Map(d.workspaces.map((w) => [w.spec.id, w]));
  for (const w of t.workspaces) {
    if (!declared.has(w.workspaceId))
      problems.push(`workspace ${w.workspaceId} (instance ${w.instance.instanceId}) is live but not declared under tenants/${slug}/workspaces/`);
    group(w.securityGroup, {
      ...baseTags(env, 'workspace', orgId, slug),
      [Tag.name]: workspaceSecurityGroupName(env, orgId, w.workspaceId),
      [Tag.workspaceId]: w.workspaceId,
      [Tag.deletionProtection]: protect,
    });
  }
  for (const w of d.workspaces) {
    if (!t.workspaces.some((l) => l.workspaceId === w.spec.id))
      problems.push(`workspace ${w.spec.id} is declared in ${w.source.file} but the control plane has no instance for it`);
  }

  // The bundle under the contract's name, its values copied unchanged.
  const bundleName = secretName(env, orgId);
  const bundleTags = { ...baseTags(env, 'tenant', orgId, slug), [Tag.deletionProtection]: protect };
  if (t.bundle) steps.push({ kind: 'copyBundle', from: t.bundle.name, to: bundleName, orgId, tags: bundleTags, existingTags: t.contractBundle?.tags });
  else if (t.contractBundle) {
    const stamp = tagsToStamp(bundleTags, t.contractBundle.tags);
    if (Object.keys(stamp).length > 0) steps.push({ kind: 'secretTags', name: bundleName, orgId, tags: stamp });
  }
  projected.secrets.push({
    arn: t.contractBundle?.arn ?? `(copy of ${t.bundle?.name ?? bundleName})`,
    name: bundleName,
    deletedDate: undefined,
    tags: { ...(t.contractBundle?.tags ?? {}), ...bundleTags },
  });

  // Cloudflare carries no tags: the tunnel's name and the record's comment say whose they are.
  if (t.tunnel) {
    const name = tunnelName(env, slug, orgId);
    if (t.tunnel.name !== name) steps.push({ kind: 'renameTunnel', id: t.tunnel.id, orgId, from: t.tunnel.name, to: name });
    projected.tunnels.push({ ...t.tunnel, name });
  }
  if (t.dnsRecord) {
    const comment = dnsComment(env, orgId, slug);
    if (t.dnsRecord.comment !== comment)
      steps.push({ kind: 'dnsComment', id: t.dnsRecord.id, orgId, name: t.dnsRecord.name, content: t.dnsRecord.content, proxied: t.dnsRecord.proxied, comment });
    projected.dnsRecords.push({ ...t.dnsRecord, comment });
  }

  for (const w of t.workspaces) {
    const dw = declared.get(w.workspaceId);
    const name = dw?.spec.name ?? w.workspaceId;
    instance(w.instance, {
      ...baseTags(env, 'workspace', orgId, slug),
      [Tag.name]: `tenantform-${env}-${slug}-${name}`,
      [Tag.workspaceId]: w.workspaceId,
      [Tag.runtime]: w.runtime,
      ...(dw ? { [Tag.tier]: dw.effective.tier } : {}),
      [Tag.deletionProtection]: protect,
      ...image(w.instance, dw?.effective.image),
    });
  }
  instance(t.instance, {
    ...baseTags(env, 'tenant', orgId, slug),
    [Tag.name]: `tenantform-${env}-${slug}`,
    [Tag.deletionProtection]: protect,
    ...image(t.instance, d.effective.image),
  });
  return { steps, projected, problems };
}
