/** Words the sweep renderers share, so text and Markdown say the same thing. */
import type { Orphan, OrphanReason, OrphanVerdict, SweepReport } from '../sweep/model.js';

export const REASON_TEXT: Record<OrphanReason, string> = {
  undeclaredTenant: 'tenant not declared',
  undeclaredWorkspace: 'workspace file gone',
  unusedSecurityGroup: 'security group no instance uses',
  tunnelWithoutRecord: 'tunnel with no DNS record',
  recordWithoutTunnel: 'DNS record pointing at no tunnel',
  unattributed: 'marked but names no org',
};

export const VERDICT_TEXT: Record<OrphanVerdict, string> = {
  delete: 'would delete',
  deleted: 'deleted',
  failed: 'delete failed',
  tooYoung: 'too young, left',
  protected: 'DeletionProtection, left',
  reportOnly: 'reported only',
  refused: 'refused by maxDeletes',
};

export const KIND_TEXT: Record<Orphan['kind'], string> = {
  instance: 'instance',
  securityGroup: 'security group',
  secret: 'bootstrap bundle',
  tunnel: 'tunnel',
  dnsRecord: 'DNS record',
};

export function ownerLabel(o: Pick<Orphan, 'slug' | 'orgId' | 'workspaceId'>): string {
  const who = o.slug ?? o.orgId ?? 'no org';
  return o.workspaceId ? `${who}/${o.workspaceId}` : who;
}

export function formatAge(report: SweepReport, o: Orphan): string {
  if (!o.since) return 'age unknown';
  const ms = Date.parse(report.observedAt) - Date.parse(o.since);
  return `${formatDuration(ms)} old${o.ageSource === 'firstSeen' ? ' (first seen)' : ''}`;
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '0s';
  const s = Math.floor(ms / 1000);
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 120) return `${m}m`;
  const h = Math.floor(m / 60);
  return h < 48 ? `${h}h` : `${Math.floor(h / 24)}d`;
}

export function headline(report: SweepReport): string {
  const s = report.summary;
  if (s.orphans === 0 && s.lost === 0) return 'nothing found';
  const parts = [`${s.orphans} orphan${s.orphans === 1 ? '' : 's'}`];
  if (report.mode === 'delete') parts.push(`${s.deleted} deleted`, ...(s.failed > 0 ? [`${s.failed} failed`] : []));
  else if (s.deletable > 0) parts.push(`${s.deletable} to delete with --delete`);
  if (s.tooYoung > 0) parts.push(`${s.tooYoung} too young`);
  if (s.protected > 0) parts.push(`${s.protected} protected`);
  if (s.reportOnly > 0) parts.push(`${s.reportOnly} unattributed`);
  if (s.refused > 0) parts.push(`${s.refused} refused`);
  if (s.lost > 0) parts.push(`${s.lost} lost claim${s.lost === 1 ? '' : 's'}`);
  return parts.join(', ');
}
