/**
 * The convergence check the crash tests, the demo and the benchmark rely on must itself catch a
 * duplicate, a missing piece and a leftover; a checker that always says "converged" proves nothing.
 */
import { describe, expect, it } from 'vitest';
import { legacyWorkspaceSecurityGroupName, secretName, tenantSecurityGroupName, tunnelName, workspaceSecurityGroupName } from '../../src/contract.js';
import { censusProblems, type Census, type DesiredIdentities } from '../support/census.js';

const ORG = 'org-1';
const WS = 'ws-1';
const desired: DesiredIdentities = { environment: 'dev', appDomain: 'tenants.example.dev', tenants: [{ slug: 'acme', orgId: ORG, workspaceIds: [WS] }] };

function converged(): Census {
  return {
    instances: [
      { id: 'i-1', state: 'running', role: 'tenant', orgId: ORG, slug: 'acme', workspaceId: undefined },
      { id: 'i-2', state: 'stopped', role: 'workspace', orgId: ORG, slug: 'acme', workspaceId: WS },
      { id: 'i-0', state: 'terminated', role: 'tenant', orgId: ORG, slug: 'acme', workspaceId: undefined },
    ],
    groups: [
      { id: 'sg-1', name: tenantSecurityGroupName('dev', ORG), role: 'tenant', orgId: ORG },
      { id: 'sg-2', name: workspaceSecurityGroupName('dev', ORG, WS), role: 'workspace', orgId: ORG },
    ],
    secrets: [{ name: secretName('dev', ORG), deleted: false }],
    tunnels: [
      { id: 't-1', name: tunnelName('dev', 'acme', ORG), deleted: false },
      { id: 't-0', name: tunnelName('dev', 'acme', ORG), deleted: true },
    ],
    records: [{ id: 'r-1', name: 'acme.tenants.example.dev', type: 'CNAME', content: 't-1.cfargotunnel.com' }],
  };
}

describe('censusProblems', () => {
  it('is empty for exactly one of each (terminated instances and deleted tunnels do not count)', () => {
    expect(censusProblems(converged(), desired)).toEqual([]);
  });

  it('reports a duplicate instance, group, secret, tunnel and record', () => {
    const c = converged();
    c.instances.push({ id: 'i-3', state: 'pending', role: 'workspace', orgId: ORG, slug: 'acme', workspaceId: WS });
    c.groups.push({ ...c.groups[0]!, id: 'sg-3' });
    c.secrets.push({ ...c.secrets[0]! });
    c.tunnels.push({ id: 't-2', name: tunnelName('dev', 'acme', ORG), deleted: false });
    c.records.push({ ...c.records[0]!, id: 'r-2' });
    expect(censusProblems(c, desired)).toEqual([
      `workspace ${WS} of acme instance: 2 of them`,
      `security group ${tenantSecurityGroupName('dev', ORG)}: 2 of them`,
      `secret ${secretName('dev', ORG)}: 2 of them`,
      'tunnel of acme: 2 of them',
      'DNS record acme.tenants.example.dev: 2 of them',
    ]);
  });

  it('reports what is missing, and a CNAME that points elsewhere', () => {
    const c = converged();
    c.instances = c.instances.filter((i) => i.role !== 'tenant');
    c.secrets = [{ name: secretName('dev', ORG), deleted: true }];
    c.records[0]!.content = 't-0.cfargotunnel.com';
    expect(censusProblems(c, desired)).toEqual([
      'tenant acme instance: missing',
      `secret ${secretName('dev', ORG)}: missing`,
      'DNS record acme.tenants.example.dev is CNAME t-0.cfargotunnel.com, not a CNAME to tunnel t-1',
    ]);
  });

  it('reports everything of a tenant the fleet no longer declares, except a secret in its recovery window', () => {
    const c = converged();
    expect(censusProblems(c, { ...desired, tenants: [] })).toEqual([
      'left over: tenant instance i-1 of acme (running)',
      'left over: workspace instance i-2 of acme (stopped)',
      `left over: security group ${tenantSecurityGroupName('dev', ORG)} (sg-1)`,
      `left over: security group ${workspaceSecurityGroupName('dev', ORG, WS)} (sg-2)`,
      `left over: secret ${secretName('dev', ORG)}`,
      `left over: tunnel ${tunnelName('dev', 'acme', ORG)} (t-1)`,
      'left over: DNS record CNAME acme.tenants.example.dev',
    ]);
    c.secrets[0]!.deleted = true;
    expect(censusProblems(c, { ...desired, tenants: [] })).not.toContain(`left over: secret ${secretName('dev', ORG)}`);
  });

  it("counts a workspace group named the older way (by workspace id alone) only when it carries the workspace's own org", () => {
    const c = converged();
    c.groups[1] = { id: 'sg-2', name: legacyWorkspaceSecurityGroupName('dev', WS), role: 'workspace', orgId: ORG };
    expect(censusProblems(c, desired)).toEqual([]);
    c.groups[1] = { ...c.groups[1], orgId: 'org-2' };
    expect(censusProblems(c, desired)).toEqual([
      `security group ${workspaceSecurityGroupName('dev', ORG, WS)}: missing`,
      `left over: security group ${legacyWorkspaceSecurityGroupName('dev', WS)} (sg-2)`,
    ]);
  });
});
