/**
 * The tag and naming contract: the only link between git and the cloud. Every name is derived
 * deterministically from (environment, org, workspace) so a crashed run's leftovers are found by
 * the next run and adopted instead of duplicated. Changing anything here orphans live resources,
 * so it is versioned with the README's "Tags and names" section.
 */
import { createHash } from 'node:crypto';

export const MANAGED_BY = 'tenantform';

export const Tag = {
  managedBy: 'ManagedBy',
  env: 'Env',
  orgId: 'OrgID',
  orgSlug: 'OrgSlug',
  role: 'Role',
  workspaceId: 'WorkspaceID',
  runtime: 'Runtime',
  tier: 'Tier',
  image: 'Image',
  tunnelId: 'TunnelID',
  sgId: 'SGID',
  deletionProtection: 'DeletionProtection',
  gitCommit: 'GitCommit',
  name: 'Name',
  backupConfig: 'BackupConfig',
} as const;

export type Role = 'tenant' | 'workspace';

/** Tunnel names carry env, slug and org: `tenantform.<env>.<slug>.<orgId>`. Slugs never hold dots. */
export function tunnelName(env: string, slug: string, orgId: string): string {
  return `${tunnelEnvPrefix(env)}${slug}.${orgId}`;
}
export function tunnelEnvPrefix(env: string): string {
  return `${MANAGED_BY}.${env}.`;
}
/** Prefix of every tunnel ever made for a slug in an environment, whatever org owned it. */
export function tunnelSlugPrefix(env: string, slug: string): string {
  return `${tunnelEnvPrefix(env)}${slug}.`;
}
export function parseTunnelName(env: string, name: string): { slug: string; orgId: string } | undefined {
  const prefix = tunnelEnvPrefix(env);
  if (!name.startsWith(prefix)) return undefined;
  const rest = name.slice(prefix.length);
  const dot = rest.indexOf('.');
  if (dot <= 0 || dot === rest.length - 1) return undefined;
  return { slug: rest.slice(0, dot), orgId: rest.slice(dot + 1) };
}

export function hostname(slug: string, appDomain: string): string {
  return `${slug}.${appDomain}`.toLowerCase();
}
export function tunnelTarget(tunnelId: string): string {
  return `${tunnelId}.cfargotunnel.com`;
}

/**
 * DNS record comments carry env, org and slug; the env prefix scopes list filters. Record tags are
 * not used: zones below Enterprise may not allow them, and the comment already says everything.
 */
export function dnsComment(env: string, orgId: string, slug: string): string {
  return `${dnsCommentEnvPrefix(env)}org=${orgId} slug=${slug}`;
}
export function dnsCommentEnvPrefix(env: string): string {
  return `${MANAGED_BY} env=${env} `;
}
export function parseDnsComment(env: string, comment: string | undefined): { orgId: string; slug: string } | undefined {
  if (!comment?.startsWith(dnsCommentEnvPrefix(env))) return undefined;
  const m = /org=(\S+) slug=(\S+)$/.exec(comment);
  return m ? { orgId: m[1]!, slug: m[2]! } : undefined;
}
export function secretName(env: string, orgId: string): string {
  return `${MANAGED_BY}/${env}/tenants/${orgId}/bootstrap`;
}
export function secretEnvPrefix(env: string): string {
  return `${MANAGED_BY}/${env}/`;
}

export function tenantSecurityGroupName(env: string, orgId: string): string {
  return `${MANAGED_BY}-${env}-tenant-${orgId}`;
}
/**
 * Workspace groups carry the org as well as the workspace id: a workspace moved to another tenant
 * gets a group of its own there, instead of adopting (by name) the group its old instance still
 * uses, which then can never be deleted (DependencyViolation) while the new owner keeps it.
 */
export function workspaceSecurityGroupName(env: string, orgId: string, workspaceId: string): string {
  return `${MANAGED_BY}-${env}-workspace-${orgId}-${workspaceId}`;
}
/**
 * The name workspace groups had before it carried the org. Older fleets still hold live groups
 * named so (a group cannot be renamed); one is adopted only when its OrgID tag is the workspace's
 * own org, since the name alone does not say which tenant it belongs to.
 */
export function legacyWorkspaceSecurityGroupName(env: string, workspaceId: string): string {
  return `${MANAGED_BY}-${env}-workspace-${workspaceId}`;
}

/**
 * RunInstances ClientToken (≤ 64 ASCII chars). Derived from the identity and a generation so a
 * re-run after a crash sends the same token (AWS then returns the first launch instead of a
 * second), while a deliberate replacement (generation + 1) launches anew.
 */
export function clientToken(env: string, role: Role, orgId: string, workspaceId: string | undefined, generation: number): string {
  const digest = createHash('sha256')
    .update([MANAGED_BY, env, role, orgId, workspaceId ?? '', String(generation)].join('\0'))
    .digest('hex');
  return `tf-${digest.slice(0, 61)}`;
}

export function baseTags(env: string, role: Role, orgId: string, slug: string): Record<string, string> {
  return {
    [Tag.managedBy]: MANAGED_BY,
    [Tag.env]: env,
    [Tag.role]: role,
    [Tag.orgId]: orgId,
    [Tag.orgSlug]: slug,
  };
}

/** TENANT_BACKUP_S3_PREFIX and TENANT_BACKUP_REPORT_URL, as they reach a tenant's bundle. */
export interface BackupSettings {
  s3Prefix?: string | undefined;
  reportUrl?: string | undefined;
}

/**
 * The bootstrap bundle's `BackupConfig` tag: `off`, or a digest of the backup settings the bundle
 * holds, so plan (which reads no secret value) sees a change to them. Salted with the org and cut
 * short: the report URL may carry a token, and the tag must not help anyone guess it. A bundle
 * without the tag predates backups and counts as `off`.
 */
export function backupConfigTag(orgId: string, backup: BackupSettings | undefined): string {
  const s3Prefix = backup?.s3Prefix?.trim() ?? '';
  const reportUrl = backup?.reportUrl?.trim() ?? '';
  if (!s3Prefix && !reportUrl) return 'off';
  const digest = createHash('sha256').update([MANAGED_BY, 'backup', orgId, s3Prefix, reportUrl].join('\0')).digest('hex');
  return `sha256:${digest.slice(0, 16)}`;
}
