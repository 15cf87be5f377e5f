/**
 * The steps of an adoption (`tenantform import --adopt`): plain data, planned by
 * src/app/import-adopt.ts, acted out by src/apply/import-adopt.ts, rendered by src/render. Never a
 * secret value: a bundle copy names the bundles, not what they hold.
 */

export type AdoptionStep =
  /** `instanceId`: a root volume's instance (its audit row is filed there); `workspaceId`: a workspace's resource. */
  | {
      kind: 'tags';
      resource: 'instance' | 'volume' | 'securityGroup';
      id: string;
      orgId: string;
      tags: Record<string, string>;
      instanceId?: string;
      workspaceId?: string;
    }
  | { kind: 'secretTags'; name: string; orgId: string; tags: Record<string, string> }
  /** `existingTags`: the contract bundle's tags when one was already there (an interrupted adoption's copy). */
  | { kind: 'copyBundle'; from: string; to: string; orgId: string; tags: Record<string, string>; existingTags?: Record<string, string> | undefined }
  | { kind: 'renameTunnel'; id: string; orgId: string; from: string; to: string }
  /** The record's other fields are sent unchanged (Cloudflare's PATCH schema wants type, name and content). */
  | { kind: 'dnsComment'; id: string; orgId: string; name: string; content: string; proxied: boolean; comment: string };

export function describeStep(s: AdoptionStep): string {
  switch (s.kind) {
    case 'tags':
      return `tag ${s.resource} ${s.id}: ${Object.keys(s.tags).sort().join(', ')}`;
    case 'secretTags':
      return `tag secret ${s.name}: ${Object.keys(s.tags).sort().join(', ')}`;
    case 'copyBundle':
      return `copy bootstrap bundle ${s.from} → ${s.to} (values unchanged)`;
    case 'renameTunnel':
      return `rename tunnel ${s.id}: ${s.from} → ${s.to}`;
    case 'dnsComment':
      return `comment DNS record ${s.name} (${s.id}): "${s.comment}"`;
  }
}
