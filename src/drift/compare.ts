/**
 * Drift: the desired state and the wiring say what tenantform would have created; the inventory
 * (list calls, every tenant, every run) and the deep facts (budgeted per-tenant reads, only for
 * the tenants deep-checked in this run) say what is there. Pure: no I/O, never throws on odd
 * input. Only declared tenants are compared; live resources no declaration backs are the sweep's.
 */
import {
  Tag,
  backupConfigTag,
  baseTags,
  hostname,
  secretName,
  tenantSecurityGroupName,
  tunnelName,
  workspaceSecurityGroupName,
  legacyWorkspaceSecurityGroupName,
} from '../contract.js';
import type { DesiredState, DesiredTenant, DesiredWorkspace } from '../desired/model.js';
import type { Inventory, LiveInstance, LiveSecurityGroup, LiveTenant } from '../live/model.js';
import { byAge, isNotTerminated, tunnelsByAge } from '../plan/normalise.js';
import type { DriftExpectations, DriftFacts } from './expectations.js';
import { compareInstance, compareTags } from './instance.js';
import { sortFindings, type DriftFinding } from './model.js';
import { compareGroupRules, compareIngress, compareRecord, type Owner } from './network.js';

const EMPTY_TENANT: Omit<LiveTenant, 'orgId'> = {
  slug: undefined,
  instances: [],
  securityGroups: [],
  secrets: [],
  tunnels: [],
  dnsRecords: [],
  workspaces: {},
  deletionProtection: false,
};

/** Every tunnel id of the environment the listing saw, attributed or not. */
export function liveTunnelIds(inv: Inventory): Set<string> {
  const ids = new Set<string>();
  for (const t of Object.values(inv.tenants)) for (const tun of t.tunnels) ids.add(tun.id.toLowerCase());
  for (const u of inv.unattributed) if (u.kind === 'tunnel') ids.add(u.id.toLowerCase());
  return ids;
}

export function compareFleet(desired: DesiredState, inv: Inventory, x: DriftExpectations, facts: DriftFacts): DriftFinding[] {
  const tunnels = liveTunnelIds(inv);
  const out: DriftFinding[] = [];
  for (const t of desired.tenants) out.push(...compareTenant(t, inv.tenants[t.spec.orgId] ?? { orgId: t.spec.orgId, ...EMPTY_TENANT }, x, facts, tunnels));
  return sortFindings(out);
}

function missing(owner: Owner, code: DriftFinding['code'], resource: DriftFinding['resource'], what: string): DriftFinding {
  return { ...owner, severity: 'drift', code, resource, resourceId: '', message: `${what} is missing`, repair: 'inPlace', remedy: 'apply creates it' };
}

function pickGroup(groups: readonly LiveSecurityGroup[], names: readonly string[]): LiveSecurityGroup | undefined {
  for (const n of names) {
    const g = groups.find((x) => x.groupName === n);
    if (g) return g;
  }
  return groups[0];
}

function oldest(instances: readonly LiveInstance[]): LiveInstance | undefined {
  return [...instances].filter(isNotTerminated).sort(byAge)[0];
}

export function tenantDeepCost(t: DesiredTenant, live: LiveTenant | undefined, env: string): { cloudflare: number; secretsmanager: number } {
  const tunnel = live?.tunnels.some((x) => x.name === tunnelName(env, t.spec.slug, t.spec.orgId)) ?? false;
  const bundle = live?.secrets.find((s) => s.name === secretName(env, t.spec.orgId));
  return { cloudflare: tunnel ? 1 : 0, secretsmanager: bundle && !bundle.deletedDate ? 1 : 0 };
}

function compareTenant(t: DesiredTenant, live: LiveTenant, x: DriftExpectations, facts: DriftFacts, tunnelIds: ReadonlySet<string>): DriftFinding[] {
  const { slug, orgId } = t.spec;
  const env = x.environment;
  const owner: Owner = { slug, orgId };
  const out: DriftFinding[] = [];
  const protection = String(t.spec.deletionProtection);
  const host = hostname(slug, x.appDomain);
  const deep = facts.deepChecked.has(orgId);

  const tunnel = live.tunnels.filter((tun) => tun.name === tunnelName(env, slug, orgId)).sort(tunnelsByAge)[0];
  if (!tunnel) out.push(missing(owner, 'tunnelMissing', 'tunnel', `tunnel ${tunnelName(env, slug, orgId)}`));
  else if (deep) {
    const config = facts.tunnelConfigs.get(tunnel.id);
    if (config) out.push(...compareIngress(owner, tunnel.id, host, config, x));
  }

  const records = live.dnsRecords.filter((r) => r.name.toLowerCase() === host);
  if (records.length === 0) out.push(missing(owner, 'recordMissing', 'dnsRecord', `CNAME ${host}`));
  for (const r of records) out.push(...compareRecord(owner, r, facts.recordTtls.get(r.id), tunnel?.id, tunnelIds));

  const bundleName = secretName(env, orgId);
  const bundle = live.secrets.find((s) => s.name === bundleName);
  if (!bundle) out.push(missing(owner, 'bundleMissing', 'secret', `bootstrap bundle ${bundleName}`));
  else {
    const base = { ...owner, resource: 'secret' as const, resourceId: bundleName };
    if (bundle.deletedDate) {
      out.push({
        ...base,
        severity: 'drift',
        code: 'bundleScheduledForDeletion',
        actual: `deletion scheduled (${bundle.deletedDate})`,
        message: 'the bootstrap bundle is scheduled for deletion',
        repair: 'inPlace',
        remedy: 'restore it (RestoreSecret)',
      });
    }
    out.push(...compareTags(owner, 'secret', bundleName, bundle.tags, { ...baseTags(env, 'tenant', orgId, slug), [Tag.deletionProtection]: protection }));
    // As plan compares it (src/plan/tenant-update.ts): the BackupConfig tag stands for the settings the bundle holds.
    const backup = x.backup === undefined || bundle.deletedDate ? undefined : { want: backupConfigTag(orgId, x.backup), have: bundle.tags[Tag.backupConfig] ?? 'off' };
    if (backup && backup.have !== backup.want) {
      out.push({
        ...base,
        severity: 'drift',
        code: 'backupConfig',
        expected: `BackupConfig=${backup.want}`,
        actual: `BackupConfig=${backup.have}`,
        message: `the bootstrap bundle holds other backup settings than TENANT_BACKUP_* (BackupConfig ${backup.have}, expected ${backup.want})`,
        repair: 'inPlace',
        remedy: 'apply rewrites the bundle and the platform re-reads it over SSM',
      });
    }
    const keys = deep ? facts.bundleKeys.get(orgId) : undefined;
    if (keys?.kind === 'notJsonObject') {
      out.push({
        ...base,
        severity: 'drift',
        code: 'bundleNotJson',
        message: 'the bootstrap bundle is not a JSON object',
        repair: 'manual',
        remedy: 'restore its previous version (version stage AWSPREVIOUS): the generated DB password and admin token cannot be regenerated',
      });
    } else if (keys?.kind === 'keys') {
      const have = new Set(keys.keys);
      const lacking = x.requiredBundleKeys.filter((k) => !have.has(k));
      if (lacking.length > 0) {
        out.push({
          ...base,
          severity: 'drift',
          code: 'bundleKeysMissing',
          expected: lacking.join(', '),
          message: `the bootstrap bundle lacks ${lacking.join(', ')}`,
          repair: 'manual',
          remedy: 'restore its previous version (version stage AWSPREVIOUS): the generated DB password and admin token cannot be regenerated',
        });
      }
    }
  }

  const group = x.perTenantGroups ? pickGroup(live.securityGroups, [tenantSecurityGroupName(env, orgId)]) : undefined;
  if (x.perTenantGroups && !group) out.push(missing(owner, 'securityGroupMissing', 'securityGroup', `security group ${tenantSecurityGroupName(env, orgId)}`));
  if (group) {
    out.push(...compareGroupRules(owner, 'tenant', group, x));
    out.push(...compareTags(owner, 'securityGroup', group.groupId, group.tags, { ...baseTags(env, 'tenant', orgId, slug), [Tag.deletionProtection]: protection }));
  }

  const inst = oldest(live.instances);
  if (!inst) out.push(missing(owner, 'instanceMissing', 'instance', 'the tenant instance'));
  else {
    const e = t.effective;
    out.push(
      ...compareInstance(
        owner,
        inst,
        { instanceType: e.instanceType, volumeGb: e.volumeGb, ami: e.ami, power: t.spec.power, target: slug },
        facts.instanceProfiles.get(inst.instanceId),
        x,
      ),
    );
    const want: Record<string, string> = { ...baseTags(env, 'tenant', orgId, slug), [Tag.deletionProtection]: protection };
    if (e.image) want[Tag.image] = e.image;
    if (tunnel) want[Tag.tunnelId] = tunnel.id;
    if (group) want[Tag.sgId] = group.groupId;
    out.push(...compareTags(owner, 'instance', inst.instanceId, inst.tags, want));
  }

  for (const w of t.workspaces) out.push(...compareWorkspace(t, w, live, x, facts));
  return out;
}

function compareWorkspace(t: DesiredTenant, w: DesiredWorkspace, live: LiveTenant, x: DriftExpectations, facts: DriftFacts): DriftFinding[] {
  const { slug, orgId } = t.spec;
  const env = x.environment;
  const owner: Owner = { slug, orgId, workspace: w.spec.name };
  const out: DriftFinding[] = [];
  const lw = live.workspaces[w.spec.id];
  const protection = String(t.spec.deletionProtection);
  const groupTags = { ...baseTags(env, 'workspace', orgId, slug), [Tag.workspaceId]: w.spec.id, [Tag.deletionProtection]: protection };

  const names = [workspaceSecurityGroupName(env, orgId, w.spec.id), legacyWorkspaceSecurityGroupName(env, w.spec.id)];
  const group = x.perTenantGroups ? pickGroup(lw?.securityGroups ?? [], names) : undefined;
  if (x.perTenantGroups && !group) out.push(missing(owner, 'securityGroupMissing', 'securityGroup', `security group ${names[0]}`));
  if (group) {
    out.push(...compareGroupRules(owner, 'workspace', group, x));
    out.push(...compareTags(owner, 'securityGroup', group.groupId, group.tags, groupTags));
  }

  const inst = oldest(lw?.instances ?? []);
  if (!inst) out.push(missing(owner, 'instanceMissing', 'instance', `the instance of workspace ${w.spec.name}`));
  else {
    const e = w.effective;
    out.push(
      ...compareInstance(
        owner,
        inst,
        { instanceType: e.instanceType, volumeGb: e.volumeGb, ami: e.ami, power: w.spec.power, target: `${slug}/${w.spec.name}` },
        facts.instanceProfiles.get(inst.instanceId),
        x,
      ),
    );
    const want: Record<string, string> = { ...groupTags, [Tag.runtime]: w.spec.runtime, [Tag.tier]: e.tier };
    if (e.image) want[Tag.image] = e.image;
    if (group) want[Tag.sgId] = group.groupId;
    out.push(...compareTags(owner, 'instance', inst.instanceId, inst.tags, want));
  }
  return out;
}
