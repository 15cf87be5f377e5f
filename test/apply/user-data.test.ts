/**
 * The boot and SSM scripts: valid bash, values quoted, and no parameter through which a secret
 * could enter (every input is an identifier, a name or an image).
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { shq, tenantRedeployScript, tenantUserData, toBase64, workspaceRefreshScript, workspaceUserData } from '../../src/apply/user-data.js';

const tenant = {
  region: 'us-east-2',
  orgId: '5f0c7e1a-0000-4000-8000-000000000001',
  slug: 'acme',
  bundleName: 'tenantform/dev/tenants/5f0c7e1a-0000-4000-8000-000000000001/bootstrap',
  image: 'ghcr.io/example/platform:1.4.2',
  platformPort: 8080,
};
const workspace = {
  region: 'us-east-2',
  orgId: tenant.orgId,
  workspaceId: 'ws-1',
  runtime: 'hermes',
  image: 'ghcr.io/example/hermes:2.1.0',
  tenantBundleName: tenant.bundleName,
  controlPlaneUrl: 'https://cp.example.com',
};

function bashSyntaxErrors(script: string): string {
  const r = spawnSync('bash', ['-n'], { input: script, encoding: 'utf8' });
  return r.status === 0 ? '' : r.stderr;
}

describe('scripts', () => {
  const scripts = {
    tenantUserData: tenantUserData(tenant),
    tenantRedeploy: tenantRedeployScript('ghcr.io/example/platform:1.5.0'),
    workspaceContainerised: workspaceUserData(workspace),
    workspaceNative: workspaceUserData({ ...workspace, image: undefined }),
    workspaceRefresh: workspaceRefreshScript('ghcr.io/example/hermes:2.2.0'),
  };
  it.each(Object.entries(scripts))('%s is valid bash with strict mode', (_name, script) => {
    expect(bashSyntaxErrors(script)).toBe('');
    expect(script.startsWith('#!/bin/bash\n')).toBe(true);
    expect(script).toContain('set -euo pipefail');
  });

  it('the tenant script reads the bundle by name and runs the platform and the tunnel connector', () => {
    const s = scripts.tenantUserData;
    expect(s).toContain(`BUNDLE='${tenant.bundleName}'`);
    expect(s).toContain('--secret-id "$BUNDLE"');
    expect(s).toMatch(/\nrun_platform\nrun_tunnel\n$/);
    expect(s).toContain("IMAGE='ghcr.io/example/platform:1.4.2'");
  });

  it('the redeploy recreates the platform container and never reboots', () => {
    const s = scripts.tenantRedeploy;
    expect(s).toContain('docker rm -f platform');
    expect(s).toContain("IMAGE='ghcr.io/example/platform:1.5.0'");
    expect(s).not.toMatch(/reboot|shutdown|systemctl (restart|stop) docker/);
    // The same script serves every tenant on the image: nothing tenant-specific inside.
    expect(s).not.toContain(tenant.orgId);
  });

  it('quotes hostile values so they stay data', () => {
    const hostile = "x'; rm -rf / #";
    const script = tenantUserData({ ...tenant, image: hostile });
    expect(bashSyntaxErrors(script)).toBe('');
    const r = spawnSync('bash', ['-c', `IMAGE=${shq(hostile)}; printf %s "$IMAGE"`], { encoding: 'utf8' });
    expect(r.stdout).toBe(hostile);
  });

  it('base64 round-trips', () => {
    expect(Buffer.from(toBase64(scripts.tenantUserData), 'base64').toString('utf8')).toBe(scripts.tenantUserData);
  });
});
