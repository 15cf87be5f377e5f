/**
 * The ingress rules tenantform gives its security groups: the platform port from the VPC CIDR
 * (tenants only) and tcp/22 only from the EIC endpoint's group, never 0.0.0.0/0. Pure, so apply
 * (which reconciles a group to them) and drift (which compares a group's rules with them) agree.
 */
import type { Role } from '../contract.js';

export interface IngressPermission {
  port: number;
  /** Exactly one of cidr / sourceGroupId. */
  cidr?: string;
  sourceGroupId?: string;
  description: string;
}

export const SSH_PORT = 22;

/** tcp/22 from the EIC endpoint's group; none without EIC_ENDPOINT_SG_ID (the caller warns). */
export function sshFromEicPermissions(eicGroupId: string | undefined): IngressPermission[] {
  return eicGroupId ? [{ port: SSH_PORT, sourceGroupId: eicGroupId, description: 'SSH from the EC2 Instance Connect endpoint' }] : [];
}

export interface ExpectedRulesInput {
  role: Role;
  platformPort: number;
  /** Needed for tenants. */
  vpcCidr: string | undefined;
  eicGroupId: string | undefined;
}

export function expectedPermissions(input: ExpectedRulesInput): IngressPermission[] {
  const ssh = sshFromEicPermissions(input.eicGroupId);
  if (input.role === 'workspace') return ssh;
  return [{ port: input.platformPort, cidr: input.vpcCidr!, description: 'platform port from inside the VPC' }, ...ssh];
}

/** `tcp:<port>:cidr:<v4>` or `tcp:<port>:sg:<group>`: the key a live rule flattens to (see ruleKey). */
export function permissionKey(p: IngressPermission): string {
  return p.cidr ? `tcp:${p.port}:cidr:${p.cidr}` : `tcp:${p.port}:sg:${p.sourceGroupId}`;
}

/** The same key for one flattened live rule (src/live's LiveIngressRule shape). */
export function ruleKey(r: { protocol: string; fromPort: number | undefined; toPort: number | undefined; source: string }): string {
  const head = r.protocol === 'tcp' && r.fromPort === r.toPort ? `tcp:${r.fromPort}` : `${r.protocol}:${r.fromPort}-${r.toPort}`;
  return `${head}:${r.source}`;
}
