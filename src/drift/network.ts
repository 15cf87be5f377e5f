/**
 * Drift of the network path: a security group's rules as an exact set, the tunnel's ingress
 * configuration, and the CNAME. Pure; the expected values come from src/expected (what apply
 * writes) and src/contract.ts.
 */
import { tunnelTarget } from '../contract.js';
import { CATCH_ALL_SERVICE, desiredIngress, normaliseIngress, platformService } from '../expected/ingress.js';
import { expectedPermissions, permissionKey, ruleKey, SSH_PORT } from '../expected/security-group.js';
import type { TunnelConfiguration } from '../live/deep/readers.js';
import type { LiveDnsRecord, LiveIngressRule, LiveSecurityGroup } from '../live/model.js';
import type { DriftExpectations } from './expectations.js';
import type { DriftFinding } from './model.js';

export type Owner = Pick<DriftFinding, 'slug' | 'orgId' | 'workspace'>;

const WORLD = new Set(['cidr:0.0.0.0/0', 'cidr6:::/0']);

function coversSsh(r: LiveIngressRule): boolean {
  if (r.protocol === '-1') return true;
  return r.protocol === 'tcp' && (r.fromPort ?? 0) <= SSH_PORT && (r.toPort ?? 65535) >= SSH_PORT;
}

function describeRule(r: LiveIngressRule): string {
  const ports = r.protocol === '-1' ? 'all traffic' : r.fromPort === r.toPort ? `${r.protocol}/${r.fromPort}` : `${r.protocol}/${r.fromPort}-${r.toPort}`;
  return `${ports} from ${r.source.replace(/^(cidr6?|sg|pl):/, '')}`;
}

export function compareGroupRules(owner: Owner, role: 'tenant' | 'workspace', group: LiveSecurityGroup, x: DriftExpectations): DriftFinding[] {
  if (!group.ingress) return [];
  const out: DriftFinding[] = [];
  const base = { ...owner, resource: 'securityGroup' as const, resourceId: group.groupId };
  const want = expectedPermissions({ role, platformPort: x.platformPort, vpcCidr: x.vpcCidr, eicGroupId: x.eicGroupId });
  // Without the VPC CIDR the platform rule's source is unknown: only its absence is not judged.
  const wantKeys = new Set(want.filter((p) => p.cidr === undefined || x.vpcCidr !== undefined).map(permissionKey));
  const platformPrefix = `tcp:${x.platformPort}:cidr:`;
  const haveKeys = new Set<string>();
  for (const r of group.ingress) {
    const key = ruleKey(r);
    haveKeys.add(key);
    if (wantKeys.has(key)) continue;
    if (x.vpcCidr === undefined && role === 'tenant' && key.startsWith(platformPrefix) && !WORLD.has(r.source)) continue;
    const actual = describeRule(r);
    if (WORLD.has(r.source)) {
      out.push({ ...base, severity: 'security', code: 'ruleOpenToWorld', actual, message: `ingress ${actual} is open to the world`, repair: 'inPlace' });
    } else if (coversSsh(r) && r.source !== `sg:${x.eicGroupId ?? ''}`) {
      out.push({
        ...base,
        severity: 'security',
        code: 'sshNotFromEic',
        actual,
        expected: x.eicGroupId ? `tcp/22 from ${x.eicGroupId} only` : 'no tcp/22 rule (EIC_ENDPOINT_SG_ID is not set)',
        message: `tcp/22 reachable from ${r.source.replace(/^(cidr6?|sg|pl):/, '')}, not only from the EIC endpoint's group`,
        repair: 'inPlace',
      });
    } else {
      out.push({ ...base, severity: 'drift', code: 'ruleExtra', actual, message: `ingress ${actual} is not one tenantform made`, repair: 'inPlace' });
    }
  }
  for (const p of want) {
    const key = permissionKey(p);
    if (!wantKeys.has(key) || haveKeys.has(key)) continue;
    const expected = `tcp/${p.port} from ${p.cidr ?? p.sourceGroupId}`;
    out.push({ ...base, severity: 'drift', code: 'ruleMissing', expected, message: `ingress ${expected} (${p.description}) is missing`, repair: 'inPlace' });
  }
  return out;
}

export function compareIngress(owner: Owner, tunnelId: string, host: string, config: TunnelConfiguration, x: DriftExpectations): DriftFinding[] {
  const base = { ...owner, resource: 'ingress' as const, resourceId: tunnelId };
  const want = desiredIngress(host, x.platformPort);
  const expected = want.map((r) => `${r.hostname || '*'} → ${r.service}`).join(', ');
  if (config.kind === 'absent' || config.ingress.length === 0) {
    return [{ ...base, severity: 'drift', code: 'ingressMissing', expected, message: 'the tunnel has no ingress configuration', repair: 'inPlace' }];
  }
  if (normaliseIngress(config.ingress) === normaliseIngress(want)) return [];
  const actual = config.ingress.map((r) => `${r.hostname || '*'}${r.path ? r.path : ''} → ${r.service}`).join(', ');
  const allowed = new Set([platformService(x.platformPort), CATCH_ALL_SERVICE]);
  const foreign = config.ingress.filter((r) => !allowed.has(r.service));
  if (foreign.length > 0) {
    const origins = [...new Set(foreign.map((r) => r.service))].join(', ');
    return [
      {
        ...base,
        severity: 'security',
        code: 'ingressOrigin',
        expected,
        actual,
        message: `ingress sends traffic to ${origins}, not the platform service`,
        repair: 'inPlace',
      },
    ];
  }
  return [
    {
      ...base,
      severity: 'drift',
      code: 'ingressRules',
      expected,
      actual,
      message: 'ingress rules differ from the hostname → platform service, then catch-all 404',
      repair: 'inPlace',
    },
  ];
}

/** The tunnel id a `<id>.cfargotunnel.com` target names. */
function targetTunnel(content: string): string | undefined {
  const m = /^([0-9a-f-]+)\.cfargotunnel\.com\.?$/i.exec(content.trim());
  return m?.[1]?.toLowerCase();
}

export function compareRecord(
  owner: Owner,
  record: LiveDnsRecord,
  ttl: number | undefined,
  tunnelId: string | undefined,
  liveTunnelIds: ReadonlySet<string>,
): DriftFinding[] {
  const out: DriftFinding[] = [];
  const base = { ...owner, resource: 'dnsRecord' as const, resourceId: record.id };
  const pointsAt = targetTunnel(record.content);
  if (pointsAt !== undefined && !liveTunnelIds.has(pointsAt)) {
    out.push({
      ...base,
      severity: 'security',
      code: 'danglingRecord',
      actual: record.content,
      ...(tunnelId ? { expected: tunnelTarget(tunnelId) } : {}),
      message: `${record.name} points at tunnel ${pointsAt}, which no longer exists (a dangling record anyone could claim)`,
      repair: 'inPlace',
      ...(tunnelId ? {} : { remedy: 'apply recreates the tunnel and repoints the record' }),
    });
  } else if (tunnelId !== undefined && record.content.trim().toLowerCase() !== tunnelTarget(tunnelId)) {
    out.push({
      ...base,
      severity: 'drift',
      code: 'recordContent',
      expected: tunnelTarget(tunnelId),
      actual: record.content,
      message: `${record.name} does not point at the tenant's tunnel`,
      repair: 'inPlace',
    });
  }
  if (record.type !== 'CNAME') {
    out.push({
      ...base,
      severity: 'drift',
      code: 'recordType',
      expected: 'CNAME',
      actual: record.type,
      message: `${record.name} is a ${record.type} record, not a CNAME`,
      repair: 'manual',
      remedy: 'delete the record; apply then creates the CNAME',
    });
  }
  if (!record.proxied)
    out.push({ ...base, severity: 'drift', code: 'recordProxied', expected: 'proxied', actual: 'DNS only', message: `${record.name} is not proxied`, repair: 'inPlace' });
  if (ttl !== undefined && ttl !== 1)
    out.push({
      ...base,
      severity: 'drift',
      code: 'recordTtl',
      expected: '1 (automatic)',
      actual: String(ttl),
      message: `${record.name} has TTL ${ttl}`,
      repair: 'inPlace',
    });
  return out;
}
