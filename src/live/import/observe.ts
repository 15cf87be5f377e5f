/**
 * The control plane's fleet, observed read-only for `tenantform import`. The control plane
 * stamped no ManagedBy/Env tags, so this reads what its contract did leave: instances by their
 * `Role` tag (narrowed to the environment's VPC when EC2_VPC_ID names one), each instance's
 * security group by its `SGID` tag, the tunnel by its `TunnelID` tag, the CNAME by the hostname
 * `<slug>.<appDomain>`, and the bootstrap bundle under the operator's name template. Instances
 * already carrying another tool's ManagedBy, or tenantform's for another environment, are left
 * out; tenantform's own for this environment are kept (a half-finished adoption resumes).
 *
 * Nothing is guessed: a resource missing a tag the contract requires is listed with the tags it
 * lacks, and its org (when known) is held back from the import.
 */
import type { Filter, Instance, SecurityGroup, Volume } from '@aws-sdk/client-ec2';
import type { SecretListEntry } from '@aws-sdk/client-secrets-manager';
import { MANAGED_BY, Tag, hostname, secretName } from '../../contract.js';
import { CloudError, describeCause } from '../../errors.js';
import { fetchAllPages } from '../cloudflare-pages.js';
import { describeAllInstances } from '../describe-instances.js';
import { toLiveDnsRecord } from '../dns.js';
import { LIVE_INSTANCE_STATES, rootVolumes, tagsToRecord, toLiveInstance, toLiveSecurityGroup } from '../ec2.js';
import type { ImportIncomplete, ImportObservation, ImportTenant, ImportWorkspace } from './model.js';
import type { LiveReaders } from '../readers.js';

export interface ImportObserveOptions {
  environment: string;
  appDomain: string;
  /** EC2_VPC_ID: only instances in this VPC are the environment's. */
  vpcId?: string | undefined;
  /** The bundle's name with `{orgId}`, `{slug}` and `{env}` placeholders, e.g. `molecule/{env}/orgs/{orgId}/bootstrap`. */
  bundleName: string;
}

export const TENANT_TAGS = [Tag.orgId, Tag.orgSlug, Tag.tunnelId, Tag.sgId] as const;
export const WORKSPACE_TAGS = [Tag.workspaceId, Tag.runtime, Tag.sgId, Tag.orgId] as const;

export function bundleNameFor(template: string, env: string, orgId: string, slug: string): string {
  return template.replaceAll('{orgId}', orgId).replaceAll('{slug}', slug).replaceAll('{env}', env);
}

export async function observeControlPlane(readers: LiveReaders, opts: ImportObserveOptions): Promise<ImportObservation> {
  const env = opts.environment;
  const filters: Filter[] = [
    { Name: `tag:${Tag.role}`, Values: ['tenant', 'workspace'] },
    { Name: 'instance-state-name', Values: [...LIVE_INSTANCE_STATES] },
    ...(opts.vpcId ? [{ Name: 'vpc-id', Values: [opts.vpcId] }] : []),
  ];
  const raw = await read('list instances', 'EC2', () => describeAllInstances((input) => readers.ec2.describeInstances(input), filters));
  const instances = raw.filter((i) => {
    const tags = tagsToRecord(i.Tags);
    const by = tags[Tag.managedBy];
    return by === undefined || (by === MANAGED_BY && tags[Tag.env] === env);
  });
  const incomplete: ImportIncomplete[] = [];
  const tenantInstances = new Map<string, Instance[]>();
  const workspaceInstances = new Map<string, Instance[]>();
  for (const i of instances) {
    const tags = tagsToRecord(i.Tags);
    const role = tags[Tag.role] as 'tenant' | 'workspace';
    const required = role === 'tenant' ? TENANT_TAGS : WORKSPACE_TAGS;
    const missing = required.filter((k) => !tags[k]?.trim());
    if (missing.length > 0) {
      incomplete.push({
        kind: 'instance',
        id: i.InstanceId ?? '',
        role,
        orgId: tags[Tag.orgId] || undefined,
        missing: [...missing],
        reason: `missing tag ${missing.join(', ')}`,
      });
      continue;
    }
    const into = role === 'tenant' ? tenantInstances : workspaceInstances;
    into.set(tags[Tag.orgId]!, [...(into.get(tags[Tag.orgId]!) ?? []), i]);
  }

  const groupIds = [...new Set(instances.map((i) => tagsToRecord(i.Tags)[Tag.sgId]).filter((g): g is string => !!g))].sort();
  const groups = new Map<string, SecurityGroup>();
  for (let k = 0; k < groupIds.length; k += 200) {
    // Filtered rather than GroupIds: an id that no longer exists must not fail the whole listing.
    const out = await read('list security groups', 'EC2', () =>
      readers.ec2.describeSecurityGroups({ Filters: [{ Name: 'group-id', Values: groupIds.slice(k, k + 200) }] }),
    );
    for (const g of out.SecurityGroups ?? []) if (g.GroupId) groups.set(g.GroupId, g);
  }
  const volumeIds = instances.flatMap((i) => (i.BlockDeviceMappings ?? []).flatMap((m) => (m.Ebs?.VolumeId ? [m.Ebs.VolumeId] : [])));
  const volumes: Volume[] = [];
  for (let k = 0; k < volumeIds.length; k += 200) {
    const out = await read('list volumes', 'EC2', () => readers.ec2.describeVolumes({ Filters: [{ Name: 'volume-id', Values: volumeIds.slice(k, k + 200) }] }));
    volumes.push(...(out.Volumes ?? []));
  }
  const roots = rootVolumes(instances, volumes);
  const volumeTags = new Map(volumes.map((v) => [v.VolumeId ?? '', tagsToRecord(v.Tags)]));
  const live = (i: Instance) => {
    const root = roots.get(i.InstanceId ?? '');
    return { ...toLiveInstance(i, root?.sizeGb, root?.volumeId), rootVolumeTags: root ? (volumeTags.get(root.volumeId) ?? {}) : undefined };
  };
  const groupOf = (i: Instance, orgId: string | undefined, role: 'tenant' | 'workspace') => {
    const id = tagsToRecord(i.Tags)[Tag.sgId]!;
    const g = groups.get(id);
    if (!g)
      incomplete.push({
        kind: 'securityGroup',
        id,
        role,
        orgId,
        missing: [],
        reason: `instance ${i.InstanceId ?? ''} names it in SGID, but no such security group exists`,
      });
    return g ? toLiveSecurityGroup(g) : undefined;
  };

  const tenants: ImportTenant[] = [];
  const managed = (i: Instance) => tagsToRecord(i.Tags)[Tag.managedBy] === MANAGED_BY;
  let alreadyManaged = 0;
  for (const [orgId, list] of [...tenantInstances].sort(([a], [b]) => (a < b ? -1 : 1))) {
    // The tenant instance is stamped last, so a tenant whose instances all carry ManagedBy is done.
    if (list.every(managed) && (workspaceInstances.get(orgId) ?? []).every(managed)) {
      workspaceInstances.delete(orgId);
      alreadyManaged++;
      continue;
    }
    if (list.length > 1) {
      incomplete.push({
        kind: 'instance',
        id: list.map((i) => i.InstanceId).join(', '),
        role: 'tenant',
        orgId,
        missing: [],
        reason: `${list.length} tenant instances carry OrgID ${orgId}`,
      });
      continue;
    }
    const instance = live(list[0]!);
    const slug = instance.tags[Tag.orgSlug]!;
    const tunnelId = instance.tags[Tag.tunnelId]!;
    const group = groupOf(list[0]!, orgId, 'tenant');
    const workspaces: ImportWorkspace[] = [];
    for (const w of workspaceInstances.get(orgId) ?? []) {
      const wi = live(w);
      const g = groupOf(w, orgId, 'workspace');
      workspaces.push({ workspaceId: wi.tags[Tag.workspaceId]!, runtime: wi.tags[Tag.runtime]!, instance: wi, securityGroup: g });
    }
    workspaceInstances.delete(orgId);
    const bundle = await findSecret(readers, bundleNameFor(opts.bundleName, env, orgId, slug));
    const contractBundle = await findSecret(readers, secretName(env, orgId));
    const tunnels = await read('list tunnels', `Cloudflare tunnel ${tunnelId}`, () =>
      fetchAllPages((page) => readers.cloudflare.listTunnels({ uuid: tunnelId, is_deleted: false, page, per_page: 50 })),
    );
    const host = hostname(slug, opts.appDomain);
    const records = await read('list DNS records', `Cloudflare DNS ${host}`, () =>
      fetchAllPages((page) => readers.cloudflare.listDnsRecords({ name: { exact: host }, page, per_page: 100 })),
    );
    const tunnel = tunnels.find((t) => t.id === tunnelId && !t.deleted_at);
    const record = records.map(toLiveDnsRecord).find((r) => r.type === 'CNAME');
    const bundleName = bundleNameFor(opts.bundleName, env, orgId, slug);
    if (!bundle && !contractBundle)
      incomplete.push({ kind: 'secret', id: bundleName, role: 'tenant', orgId, missing: [], reason: `no bootstrap bundle named ${bundleName}` });
    if (!tunnel)
      incomplete.push({
        kind: 'tunnel',
        id: tunnelId,
        role: 'tenant',
        orgId,
        missing: [],
        reason: `instance ${instance.instanceId} names it in TunnelID, but no such live tunnel exists`,
      });
    if (!record) incomplete.push({ kind: 'dnsRecord', id: host, role: 'tenant', orgId, missing: [], reason: `no CNAME ${host}` });
    tenants.push({
      orgId,
      slug,
      instance,
      securityGroup: group,
      workspaces: workspaces.sort((a, b) => (a.workspaceId < b.workspaceId ? -1 : 1)),
      bundle: bundle ? { name: bundle.Name ?? '', arn: bundle.ARN ?? '', tags: tagsToRecord(bundle.Tags) } : undefined,
      contractBundle: contractBundle ? { name: contractBundle.Name ?? '', arn: contractBundle.ARN ?? '', tags: tagsToRecord(contractBundle.Tags) } : undefined,
      tunnel: tunnel ? { id: tunnel.id ?? '', name: tunnel.name ?? '', createdAt: tunnel.created_at } : undefined,
      dnsRecord: record,
    });
  }
  for (const [orgId, list] of workspaceInstances) {
    for (const w of list) {
      incomplete.push({ kind: 'instance', id: w.InstanceId ?? '', role: 'workspace', orgId, missing: [], reason: `no tenant instance carries its OrgID ${orgId}` });
    }
  }
  return { tenants, incomplete, alreadyManaged };
}

async function findSecret(readers: LiveReaders, name: string): Promise<SecretListEntry | undefined> {
  const out = await read('list secrets', `Secrets Manager ${name}`, () => readers.secrets.listSecrets({ Filters: [{ Key: 'name', Values: [name] }], MaxResults: 100 }));
  // The name filter matches by prefix: keep the exact name only.
  return (out.SecretList ?? []).find((s) => s.Name === name && !s.DeletedDate);
}

async function read<T>(operation: string, resource: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new CloudError(describeCause(err), { operation, resource, cause: err });
  }
}
