/**
 * `import --write`: the fleet files for what the control plane made, from what is live — the
 * tenant's slug and org, its instance type when it is not the fleet's default, power; each
 * workspace's runtime, its tier (the tier whose instance type, through the clamp, is the live
 * one: nothing else is written when none is), power, and its image when the instance's `Image`
 * tag names one other than the runtime's pin. Canary and deletion protection are not knowable
 * from the control plane's tags and keep their defaults (false).
 *
 * A file is never overwritten: a tenant any of whose files exists is skipped whole (nothing of it
 * is written) and reported; the other tenants are written. Files are made with O_EXCL, and a
 * tenant whose write fails half-way has what it wrote removed again.
 */
import { mkdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Tag } from '../contract.js';
import { InputError, describeCause } from '../errors.js';
import { TENANTS_DIR, TENANT_FILE, WORKSPACES_DIR } from '../desired/layout.js';
import type { FleetSpec, Power } from '../desired/model.js';
import { tierResolver } from '../desired/resolve.js';
import type { ImportTenant } from '../live/import/model.js';
import type { InstanceState } from '../live/model.js';

export interface FleetFile {
  /** Repository-relative, '/'-separated. */
  file: string;
  content: string;
}

export type TenantFiles = { ok: true; files: FleetFile[] } | { ok: false; reason: string };

const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const RUNTIME = /^[a-z][a-z0-9-]{0,31}$/;
const HEADER = '# Imported from the control plane by `tenantform import`.';

export function powerOfState(state: InstanceState): Power {
  return state === 'stopped' || state === 'stopping' ? 'stopped' : 'running';
}

/** The tier a live instance type stands for: one whose own type it is and that runs as it, else any that runs as it. */
export function tierFor(fleet: FleetSpec, instanceType: string): string | undefined {
  const resolve = tierResolver(fleet);
  const runsAs = (name: string) => resolve(name)?.effective.instanceType === instanceType;
  return (fleet.tiers.find((t) => t.instanceType === instanceType && runsAs(t.name)) ?? fleet.tiers.find((t) => runsAs(t.name)))?.name;
}

export function workspaceFileName(runtime: string, workspaceId: string): string {
  return `${runtime}-${workspaceId.slice(0, 8)}`;
}

export function tenantFiles(fleet: FleetSpec, t: ImportTenant): TenantFiles {
  if (!SLUG.test(t.slug)) return { ok: false, reason: `OrgSlug "${t.slug}" is not a DNS label (lower-case letters, digits, hyphens)` };
  if (!UUID.test(t.orgId)) return { ok: false, reason: `OrgID "${t.orgId}" is not a lower-case UUID` };
  const dir = `${TENANTS_DIR}/${t.slug}`;
  const lines = ['# yaml-language-server: $schema=../../schemas/tenant.schema.json', HEADER, 'apiVersion: tenantform.dev/v1', 'kind: Tenant'];
  lines.push(`slug: ${t.slug}`, `orgId: ${t.orgId}`);
  if (t.instance.instanceType !== fleet.tenant.instanceType) lines.push(`instanceType: ${t.instance.instanceType}`);
  lines.push(`power: ${powerOfState(t.instance.state)}`);
  // The control plane's canary tenants live in the canary account: declared so, they stay there.
  if (t.account === 'canary') lines.push('canary: true');
  const files: FleetFile[] = [{ file: `${dir}/${TENANT_FILE}`, content: `${lines.join('\n')}\n` }];
  const names = new Set<string>();
  for (const w of t.workspaces) {
    if (!UUID.test(w.workspaceId)) return { ok: false, reason: `workspace instance ${w.instance.instanceId}: WorkspaceID "${w.workspaceId}" is not a lower-case UUID` };
    if (!RUNTIME.test(w.runtime)) return { ok: false, reason: `workspace ${w.workspaceId}: Runtime "${w.runtime}" is not a runtime name` };
    const tier = tierFor(fleet, w.instance.instanceType);
    if (!tier) return { ok: false, reason: `workspace ${w.workspaceId}: no tier of fleet.yaml runs as instance type ${w.instance.instanceType}` };
    let name = workspaceFileName(w.runtime, w.workspaceId);
    if (names.has(name)) name = w.workspaceId;
    names.add(name);
    const ws = ['# yaml-language-server: $schema=../../../schemas/workspace.schema.json', HEADER, 'apiVersion: tenantform.dev/v1', 'kind: Workspace'];
    ws.push(`id: ${w.workspaceId}`, `runtime: ${w.runtime}`, `tier: ${tier}`, `power: ${powerOfState(w.instance.state)}`);
    const image = w.instance.tags[Tag.image]?.trim();
    // Quoted: a reference is a plain string, whatever YAML would make of it.
    if (image && image !== fleet.runtimeImagePins[w.runtime]) ws.push(`image: ${JSON.stringify(image)}`);
    files.push({ file: `${dir}/${WORKSPACES_DIR}/${name}.yaml`, content: `${ws.join('\n')}\n` });
  }
  return { ok: true, files };
}

export type WriteOutcome = { written: string[] } | { existing: string[] };

/** Writes one tenant's files, all or none; existing files are never touched. */
export function writeTenantFiles(repoDir: string, files: readonly FleetFile[]): WriteOutcome {
  const existing = files.filter((f) => existsSync(join(repoDir, f.file))).map((f) => f.file);
  if (existing.length > 0) return { existing };
  const written: string[] = [];
  try {
    for (const f of files) {
      const abs = join(repoDir, f.file);
      mkdirSync(join(abs, '..'), { recursive: true });
      writeFileSync(abs, f.content, { flag: 'wx' });
      written.push(f.file);
    }
  } catch (err) {
    for (const f of written) rmSync(join(repoDir, f), { force: true });
    if ((err as NodeJS.ErrnoException).code === 'EEXIST')
      return { existing: files.map((f) => f.file).filter((f) => !written.includes(f) && existsSync(join(repoDir, f))) };
    throw new InputError(describeCause(err), { operation: 'write fleet file', resource: files[written.length]?.file ?? repoDir, cause: err });
  }
  return { written };
}
