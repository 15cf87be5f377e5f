/**
 * Joins raw observations into the inventory, keyed by OrgID and then WorkspaceID. The join reads
 * only our own tags and names (contract.ts); whatever carries this environment's marks but cannot
 * be attributed to an org goes to `unattributed`, kept aside for the orphan sweep.
 */
import type { Account } from '../accounts.js';
import { Tag, parseDnsComment, parseTunnelName, secretEnvPrefix } from '../contract.js';
import type { Inventory, LiveDnsRecord, LiveInstance, LiveSecret, LiveSecurityGroup, LiveTenant, LiveTunnel, LiveWorkspace, UnattributedResource } from './model.js';

export interface Observations {
  instances: LiveInstance[];
  securityGroups: LiveSecurityGroup[];
  secrets: LiveSecret[];
  tunnels: LiveTunnel[];
  dnsRecords: LiveDnsRecord[];
}

export interface JoinOptions {
  environment: string;
  observedAt: string;
  scope: Inventory['scope'];
  calls: Inventory['calls'];
}

type Attribution = { orgId: string; slug: string | undefined } | { reason: string };

function byTags(tags: Record<string, string>): Attribution {
  const orgId = tags[Tag.orgId];
  return orgId ? { orgId, slug: tags[Tag.orgSlug] || undefined } : { reason: `no ${Tag.orgId} tag` };
}

/** `tenantform/<env>/tenants/<orgId>/bootstrap` when the tags are gone. */
function secretOrgFromName(env: string, name: string): string | undefined {
  const m = /^tenants\/([^/]+)\/bootstrap$/.exec(name.slice(secretEnvPrefix(env).length));
  return m?.[1];
}

export function joinInventory(obs: Observations, opts: JoinOptions): Inventory {
  const env = opts.environment;
  const tenants: Record<string, LiveTenant> = {};
  const unattributed: UnattributedResource[] = [];

  const tenant = (orgId: string, slug: string | undefined): LiveTenant => {
    let t = tenants[orgId];
    if (!t) {
      t = { orgId, slug, instances: [], securityGroups: [], secrets: [], tunnels: [], dnsRecords: [], workspaces: {}, deletionProtection: false };
      tenants[orgId] = t;
    }
    if (t.slug === undefined && slug) t.slug = slug;
    return t;
  };
  const workspace = (t: LiveTenant, workspaceId: string): LiveWorkspace => {
    let w = t.workspaces[workspaceId];
    if (!w) {
      w = { orgId: t.orgId, workspaceId, instances: [], securityGroups: [] };
      t.workspaces[workspaceId] = w;
    }
    return w;
  };
  const protect = (t: LiveTenant, tags: Record<string, string>) => {
    if (tags[Tag.deletionProtection] === 'true') t.deletionProtection = true;
  };

  /** Instances and security groups hang off the tenant or one of its workspaces, by Role. */
  const placeEc2 = <T extends { tags: Record<string, string>; account?: Account }>(
    kind: 'instance' | 'securityGroup',
    item: T,
    id: string,
    name: string | undefined,
    add: (owner: LiveTenant | LiveWorkspace, item: T) => void,
  ) => {
    const a = byTags(item.tags);
    const role = item.tags[Tag.role];
    const workspaceId = item.tags[Tag.workspaceId];
    const setAside = (reason: string): void => {
      unattributed.push({ service: 'ec2', kind, id, name, reason, ...(item.account ? { account: item.account } : {}) });
    };
    if ('reason' in a) return setAside(a.reason);
    if (role !== 'tenant' && role !== 'workspace') return setAside(`unknown ${Tag.role} "${role ?? ''}"`);
    if (role === 'workspace' && !workspaceId) return setAside(`${Tag.role}=workspace without ${Tag.workspaceId}`);
    const t = tenant(a.orgId, a.slug);
    protect(t, item.tags);
    add(role === 'workspace' ? workspace(t, workspaceId!) : t, item);
  };

  for (const i of obs.instances) {
    placeEc2('instance', i, i.instanceId, i.tags[Tag.name], (owner, x) => owner.instances.push(x));
  }
  for (const g of obs.securityGroups) {
    placeEc2('securityGroup', g, g.groupId, g.groupName, (owner, x) => owner.securityGroups.push(x));
  }
  for (const s of obs.secrets) {
    const a = byTags(s.tags);
    const orgId = 'orgId' in a ? a.orgId : secretOrgFromName(env, s.name);
    if (!orgId) {
      unattributed.push({
        service: 'secretsmanager',
        kind: 'secret',
        id: s.arn,
        name: s.name,
        reason: 'no OrgID tag and not a bootstrap bundle name',
        ...(s.account ? { account: s.account } : {}),
      });
      continue;
    }
    const t = tenant(orgId, 'orgId' in a ? a.slug : undefined);
    protect(t, s.tags);
    t.secrets.push(s);
  }
  for (const tun of obs.tunnels) {
    const parsed = parseTunnelName(env, tun.name);
    if (!parsed) {
      unattributed.push({ service: 'cloudflare', kind: 'tunnel', id: tun.id, name: tun.name, reason: 'name does not carry slug and org' });
      continue;
    }
    tenant(parsed.orgId, parsed.slug).tunnels.push(tun);
  }
  for (const r of obs.dnsRecords) {
    const parsed = parseDnsComment(env, r.comment);
    if (!parsed) {
      unattributed.push({ service: 'cloudflare', kind: 'dnsRecord', id: r.id, name: r.name, reason: 'comment does not carry org and slug' });
      continue;
    }
    tenant(parsed.orgId, parsed.slug).dnsRecords.push(r);
  }

  return { environment: env, observedAt: opts.observedAt, scope: opts.scope, tenants, unattributed, calls: opts.calls };
}
