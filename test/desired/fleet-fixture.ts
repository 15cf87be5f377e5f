/** Builds fleet repositories in temporary folders: a small valid base plus per-test changes. */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const BASE_FILES: Record<string, string> = {
  'fleet.yaml': [
    'apiVersion: tenantform.dev/v1',
    'kind: Fleet',
    'environment: dev',
    'region: us-east-2',
    'appDomain: tenants.example.dev',
    'tenantImage: ghcr.io/example/platform:1.4.2',
    'defaultAmi: ami-06dd88604c99ec11f',
    'amiPins:',
    '  hermes:',
    '    us-east-2: ami-0a1b2c3d4e5f60718',
    '',
  ].join('\n'),
  'tenants/acme/tenant.yaml': ['apiVersion: tenantform.dev/v1', 'kind: Tenant', 'slug: acme', 'orgId: 5f0c6a52-3b1e-4c8e-9a57-2d41e8a0b001', ''].join('\n'),
  'tenants/acme/workspaces/main.yaml': [
    'apiVersion: tenantform.dev/v1',
    'kind: Workspace',
    'id: 0b8e4f7a-61c2-4d3e-8f90-a1b2c3d4e001',
    'runtime: hermes',
    'tier: T4',
    '',
  ].join('\n'),
};

export function tenantYaml(slug: string, orgId: string, extra = ''): string {
  return `apiVersion: tenantform.dev/v1\nkind: Tenant\nslug: ${slug}\norgId: ${orgId}\n${extra}`;
}

export function workspaceYaml(id: string, extra = '', runtime = 'hermes', tier = 'T4'): string {
  return `apiVersion: tenantform.dev/v1\nkind: Workspace\nid: ${id}\nruntime: ${runtime}\ntier: ${tier}\n${extra}`;
}

const made: string[] = [];

/** Writes BASE_FILES with `changes` applied (null deletes a base file; Buffers are written as bytes). */
export function makeFleet(changes: Record<string, string | Buffer | null> = {}, base: Record<string, string> = BASE_FILES): string {
  const dir = mkdtempSync(join(tmpdir(), 'tenantform-fleet-'));
  made.push(dir);
  const files: Record<string, string | Buffer | null> = { ...base, ...changes };
  for (const [path, content] of Object.entries(files)) {
    if (content === null) continue;
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

export function removeFleets(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}
