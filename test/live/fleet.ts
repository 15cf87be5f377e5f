/**
 * Fleet repositories for plan tests and the benchmark: the example fleet.yaml (with the app domain
 * the Cloudflare double serves) and generated tenants, written to a directory, optionally as a git
 * repository. Also maps a loaded desired tenant to what test/live/seed.ts provisions, so "fully
 * provisioned" means what the contract says the desired state turns into.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { simpleGit } from 'simple-git';
import { tenantIntent } from '../../src/plan/intent.js';
import type { DesiredTenant } from '../../src/desired/model.js';
import type { SeedTenant } from './seed.js';

const EXAMPLE_FLEET = resolve(import.meta.dirname, '..', '..', 'fleet.yaml');

export interface FleetTenant {
  slug: string;
  orgId: string;
  canary?: boolean;
  deletionProtection?: boolean;
  power?: 'running' | 'stopped';
  workspaces: Array<{ name: string; id: string; runtime: string; tier: string; power?: 'running' | 'stopped' }>;
}

export function fleetYaml(appDomain: string, overrides: Record<string, string> = {}): string {
  let text = readFileSync(EXAMPLE_FLEET, 'utf8').replace(/^appDomain: .*$/m, `appDomain: ${appDomain}`);
  for (const [key, value] of Object.entries(overrides)) text = text.replace(new RegExp(`^${key}: .*$`, 'm'), `${key}: ${value}`);
  return text;
}

export function writeTenant(dir: string, t: FleetTenant): void {
  const tenantDir = join(dir, 'tenants', t.slug);
  mkdirSync(join(tenantDir, 'workspaces'), { recursive: true });
  const lines = ['apiVersion: tenantform.dev/v1', 'kind: Tenant', `slug: ${t.slug}`, `orgId: ${t.orgId}`];
  if (t.canary) lines.push('canary: true');
  if (t.deletionProtection) lines.push('deletionProtection: true');
  if (t.power) lines.push(`power: ${t.power}`);
  writeFileSync(join(tenantDir, 'tenant.yaml'), `${lines.join('\n')}\n`);
  for (const w of t.workspaces) {
    const ws = ['apiVersion: tenantform.dev/v1', 'kind: Workspace', `id: ${w.id}`, `runtime: ${w.runtime}`, `tier: ${w.tier}`];
    if (w.power) ws.push(`power: ${w.power}`);
    writeFileSync(join(tenantDir, 'workspaces', `${w.name}.yaml`), `${ws.join('\n')}\n`);
  }
}

export function writeFleet(dir: string, appDomain: string, tenants: readonly FleetTenant[]): void {
  mkdirSync(join(dir, 'tenants'), { recursive: true });
  writeFileSync(join(dir, 'fleet.yaml'), fleetYaml(appDomain));
  for (const t of tenants) writeTenant(dir, t);
}

export async function commitAll(dir: string, message: string): Promise<string> {
  const git = simpleGit({ baseDir: dir });
  if (!(await git.checkIsRepo().catch(() => false))) {
    await git.init();
    await git.addConfig('user.name', 'tenantform tests');
    await git.addConfig('user.email', 'tests@tenantform.invalid');
  }
  await git.add('.');
  await git.commit(message);
  return (await git.revparse(['HEAD'])).trim();
}

/** A deterministic UUID-shaped id from a number, so generated fleets are reproducible. */
export function fakeUuid(prefix: string, n: number): string {
  const hex = n.toString(16).padStart(12, '0');
  return `${prefix.padEnd(8, '0').slice(0, 8)}-0000-4000-8000-${hex}`;
}

/** `count` tenants with `workspacesPer` workspaces each, alternating runtimes. */
export function generatedTenants(count: number, workspacesPer: number): FleetTenant[] {
  return Array.from({ length: count }, (_, i) => ({
    slug: `t${String(i).padStart(5, '0')}`,
    orgId: fakeUuid('0a0a0a0a', i),
    workspaces: Array.from({ length: workspacesPer }, (_, w) => ({
      name: `ws${w}`,
      id: fakeUuid('0b0b0b0b', i * 100 + w),
      runtime: w % 2 === 0 ? 'hermes' : 'claude-code',
      tier: 'T4',
    })),
  }));
}

/** What a fully provisioned desired tenant looks like to the seeder. */
export function seedSpec(t: DesiredTenant): SeedTenant {
  return {
    ...tenantIntent(t),
    workspaces: t.workspaces.map((w) => ({
      id: w.spec.id,
      runtime: w.spec.runtime,
      tier: w.effective.tier,
      instanceType: w.effective.instanceType,
      volumeGb: w.effective.volumeGb,
      ami: w.effective.ami,
      ...(w.effective.image ? { image: w.effective.image } : {}),
      power: w.spec.power,
    })),
  };
}
