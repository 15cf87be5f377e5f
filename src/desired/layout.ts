/**
 * Finding the fleet files: fleet.yaml, tenants/<slug>/tenant.yaml and
 * tenants/<slug>/workspaces/<name>.yaml. Anything else under tenants/ is reported (a stray
 * file is usually a misplaced tenant), symlinks may not leave the repository, and names
 * starting with a dot (.gitkeep, .DS_Store) are ignored — except a hidden folder under tenants/
 * or a hidden .yaml file under workspaces/: skipping those would turn a declared tenant or
 * workspace into an undeclared one, planned for deletion, so they are errors.
 */
import { readdirSync, realpathSync, statSync, type Dirent } from 'node:fs';
import { sep } from 'node:path';
import type { Diagnostic } from './diagnostics.js';
import { InputError } from '../errors.js';

export interface FileRef {
  /** Repository-relative, '/'-separated. */
  file: string;
  abs: string;
}

export interface TenantFolder {
  /** The folder name, which the tenant's slug must equal. */
  folder: string;
  dir: string;
  tenantFile: FileRef | undefined;
  /** Only read when the tenant is selected (see `only`). */
  workspaces: (FileRef & { name: string })[];
  selected: boolean;
}

export interface RepoLayout {
  root: string;
  fleetFile: FileRef | undefined;
  tenantFolders: TenantFolder[];
}

export const FLEET_FILE = 'fleet.yaml';
export const TENANTS_DIR = 'tenants';
export const TENANT_FILE = 'tenant.yaml';
export const WORKSPACES_DIR = 'workspaces';
const WORKSPACE_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

type EntryKind = 'file' | 'dir' | 'other' | 'rejected';

/** A path both ways: absolute for the file system, repository-relative for messages. */
interface Place {
  abs: string;
  rel: string;
}

// Built by concatenation: path.join/relative per file is measurable at 60,000 files.
function child(parent: Place, name: string): Place {
  return { abs: parent.abs + sep + name, rel: parent.rel === '' ? name : `${parent.rel}/${name}` };
}

/** Lists the fleet files; problems with the layout itself are added to `diagnostics`. */
export function discover(repoDir: string, diagnostics: Diagnostic[], only?: ReadonlySet<string>): RepoLayout | undefined {
  let root: string;
  try {
    root = realpathSync(repoDir);
    if (!statSync(root).isDirectory()) throw new InputError('not a directory', { operation: 'read fleet repository', resource: repoDir });
  } catch {
    diagnostics.push(problem('.', `The fleet repository ${repoDir} does not exist or is not a directory.`));
    return undefined;
  }
  const kindOf = (place: Place, dirent: Dirent): EntryKind => entryKind(root, place, dirent, diagnostics);
  const rootPlace: Place = { abs: root, rel: '' };

  const layout: RepoLayout = { root, fleetFile: undefined, tenantFolders: [] };
  const top = list(root);
  const fleetEntry = top.find((d) => d.name === FLEET_FILE);
  if (!fleetEntry) {
    const hint = top.some((d) => d.name === 'fleet.yml') ? ' (found fleet.yml: rename it to fleet.yaml)' : '';
    diagnostics.push(problem(FLEET_FILE, `fleet.yaml is missing from the repository root${hint}; every fleet repository starts with one (kind: Fleet).`));
  } else {
    const place = child(rootPlace, FLEET_FILE);
    const kind = kindOf(place, fleetEntry);
    if (kind === 'file') layout.fleetFile = { file: place.rel, abs: place.abs };
    else if (kind !== 'rejected') diagnostics.push(problem(FLEET_FILE, 'fleet.yaml must be a regular file.'));
  }

  const tenantsEntry = top.find((d) => d.name === TENANTS_DIR);
  if (!tenantsEntry) return layout;
  const tenantsDir = child(rootPlace, TENANTS_DIR);
  const tenantsKind = kindOf(tenantsDir, tenantsEntry);
  if (tenantsKind !== 'dir') {
    if (tenantsKind !== 'rejected') diagnostics.push(problem(TENANTS_DIR, 'tenants must be a folder holding one folder per tenant.'));
    return layout;
  }
  for (const hidden of hiddenEntries(tenantsDir.abs, (d) => d.isDirectory())) {
    const place = child(tenantsDir, hidden);
    diagnostics.push(
      unplaced(
        place.rel,
        `The folder ${place.rel} is hidden (its name starts with a dot), so its tenant would be read as undeclared and planned for deletion; rename it to ${TENANTS_DIR}/${hidden.replace(/^\.+/, '') || '<slug>'} or remove it.`,
      ),
    );
  }
  for (const entry of list(tenantsDir.abs)) {
    const place = child(tenantsDir, entry.name);
    const kind = kindOf(place, entry);
    if (kind === 'rejected') continue;
    if (kind !== 'dir') {
      diagnostics.push(problem(place.rel, `Unexpected file in tenants/: only tenant folders belong here (tenants/<slug>/tenant.yaml).`));
      continue;
    }
    layout.tenantFolders.push(readTenantFolder(place, entry.name, only ? only.has(entry.name) : true, kindOf, diagnostics));
  }
  return layout;
}

function readTenantFolder(dir: Place, folder: string, selected: boolean, kindOf: (place: Place, d: Dirent) => EntryKind, diagnostics: Diagnostic[]): TenantFolder {
  const tenant: TenantFolder = { folder, dir: dir.rel, tenantFile: undefined, workspaces: [], selected };
  for (const entry of list(dir.abs)) {
    const place = child(dir, entry.name);
    if (entry.name === TENANT_FILE) {
      const kind = kindOf(place, entry);
      if (kind === 'file') tenant.tenantFile = { file: place.rel, abs: place.abs };
      else if (kind !== 'rejected') diagnostics.push(problem(place.rel, 'tenant.yaml must be a regular file.'));
    } else if (entry.name === WORKSPACES_DIR) {
      const kind = kindOf(place, entry);
      if (kind === 'dir') {
        if (selected) tenant.workspaces = readWorkspaces(place, kindOf, diagnostics);
      } else if (kind !== 'rejected') {
        diagnostics.push(problem(place.rel, 'workspaces must be a folder holding one <name>.yaml file per workspace.'));
      }
    } else if (selected) {
      const hint = entry.name === 'tenant.yml' ? ' (rename it to tenant.yaml)' : '';
      diagnostics.push(problem(place.rel, `Unexpected entry in a tenant folder${hint}: only tenant.yaml and workspaces/ belong here.`));
    }
  }
  if (!tenant.tenantFile) {
    diagnostics.push(problem(tenant.dir, `The tenant folder ${tenant.dir} has no tenant.yaml; add one (kind: Tenant) or remove the folder.`));
  }
  return tenant;
}

function readWorkspaces(dir: Place, kindOf: (place: Place, d: Dirent) => EntryKind, diagnostics: Diagnostic[]): (FileRef & { name: string })[] {
  const out: (FileRef & { name: string })[] = [];
  for (const hidden of hiddenEntries(dir.abs, (d) => d.isFile() && d.name.endsWith('.yaml'))) {
    const place = child(dir, hidden);
    diagnostics.push(
      unplaced(
        place.rel,
        `The workspace file ${place.rel} is hidden (its name starts with a dot), so its workspace would be read as undeclared and planned for deletion; rename it without the dot or remove it.`,
      ),
    );
  }
  for (const entry of list(dir.abs)) {
    const place = child(dir, entry.name);
    const kind = kindOf(place, entry);
    if (kind === 'rejected') continue;
    const name = entry.name.endsWith('.yaml') ? entry.name.slice(0, -'.yaml'.length) : undefined;
    if (kind !== 'file' || name === undefined) {
      const hint = entry.name.endsWith('.yml') ? ' (rename it to .yaml)' : '';
      diagnostics.push(problem(place.rel, `Unexpected entry in workspaces/${hint}: only <name>.yaml workspace files belong here.`));
      continue;
    }
    if (!WORKSPACE_NAME.test(name)) {
      diagnostics.push(problem(place.rel, `The workspace file name "${name}" is not a valid name: use lower-case letters, digits and hyphens, at most 63 characters.`));
      continue;
    }
    out.push({ name, file: place.rel, abs: place.abs });
  }
  return out;
}

/** Directory entries sorted by name, dotfiles left out. */
function list(dir: string): Dirent[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => !d.name.startsWith('.'))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Names of the dot entries of `dir` that `matters` picks (the rest — .gitkeep, .DS_Store — are ignored). */
function hiddenEntries(dir: string, matters: (d: Dirent) => boolean): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.name.startsWith('.') && d.name !== '.' && d.name !== '..' && matters(d))
    .map((d) => d.name)
    .sort();
}

function entryKind(root: string, { abs, rel: file }: Place, dirent: Dirent, diagnostics: Diagnostic[]): EntryKind {
  if (dirent.isFile()) return 'file';
  if (dirent.isDirectory()) return 'dir';
  if (!dirent.isSymbolicLink()) return 'other';
  let target: string;
  try {
    target = realpathSync(abs);
  } catch {
    diagnostics.push(problem(file, 'The symlink is broken: its target does not exist.'));
    return 'rejected';
  }
  if (target !== root && !target.startsWith(root + sep)) {
    diagnostics.push(problem(file, 'The symlink points outside the repository; fleet files must live inside it.'));
    return 'rejected';
  }
  const stat = statSync(target);
  return stat.isFile() ? 'file' : stat.isDirectory() ? 'dir' : 'other';
}

function problem(file: string, message: string): Diagnostic {
  return { severity: 'error', file, line: 1, col: 1, path: '', message };
}

/** A problem with a folder or a file as a whole: no line to point at (line and col 0). */
export function unplaced(file: string, message: string): Diagnostic {
  return { severity: 'error', file, line: 0, col: 0, path: '', message };
}
