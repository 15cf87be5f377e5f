/**
 * The init use case: scaffold a fleet repository in a folder. It never overwrites anything: every
 * file it would write is checked first, and when one exists (or the folder already holds a fleet)
 * nothing at all is written and the conflicts are returned. Files are then created exclusively
 * ('wx'), so a file appearing in between is not clobbered either.
 *
 * The workflows and schemas are the project's own `workflows/` and `schemas/`, read from the package
 * root relative to this module, which is two levels down both as src/app/init.ts and as
 * dist/app/init.js.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../errors.js';
import { CODEOWNERS, fleetYaml, GITIGNORE, readme, type FleetSettings } from './init-files.js';

const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const WORKFLOWS_SOURCE = join(PACKAGE_ROOT, 'workflows');
const SCHEMAS_SOURCE = join(PACKAGE_ROOT, 'schemas');
/** GitHub Actions reads .github/workflows/; Gitea Actions reads .gitea/workflows/, else this one. */
export const WORKFLOWS_TARGET = '.github/workflows';

export interface InitInput {
  dir: string;
  settings: FleetSettings;
}

export type InitResult =
  | { ok: true; dir: string; written: string[] }
  /** Repository-relative paths that already exist; nothing was written. */
  | { ok: false; dir: string; conflicts: string[] };

export function initFleet(input: InitInput): InitResult {
  const dir = resolve(input.dir);
  const files = scaffold(input.settings);
  // tenants/ as a whole: an existing one is a fleet, even if tenants/.gitkeep is not there.
  const conflicts = ['tenants', ...Object.keys(files)].filter((f, i, all) => all.indexOf(f) === i && existsSync(join(dir, f)));
  if (conflicts.length > 0) return { ok: false, dir, conflicts: conflicts.sort() };
  const written: string[] = [];
  for (const [file, text] of Object.entries(files)) {
    const abs = join(dir, file);
    try {
      mkdirSync(dirname(abs), { recursive: true });
      writeFileSync(abs, text, { flag: 'wx' });
    } catch (cause) {
      throw new InputError(`could not write ${file}${written.length ? ` (already written: ${written.join(', ')})` : ''}`, {
        operation: 'init fleet repository',
        resource: dir,
        cause,
      });
    }
    written.push(file);
  }
  return { ok: true, dir, written };
}

/** Repository-relative path → content, in the order they are written. */
function scaffold(settings: FleetSettings): Record<string, string> {
  const files: Record<string, string> = {
    'fleet.yaml': fleetYaml(settings),
    'tenants/.gitkeep': '',
    '.gitignore': GITIGNORE,
    CODEOWNERS,
    'README.md': readme(settings),
  };
  for (const [source, target] of [
    [SCHEMAS_SOURCE, 'schemas'],
    [WORKFLOWS_SOURCE, WORKFLOWS_TARGET],
  ] as const) {
    let names: string[];
    try {
      names = readdirSync(source).filter((n) => /\.(?:ya?ml|json)$/.test(n));
    } catch (cause) {
      throw new InputError('the tenantform package has no such folder; reinstall tenantform', { operation: 'init fleet repository', resource: source, cause });
    }
    for (const name of names.sort()) files[`${target}/${name}`] = readFileSync(join(source, name), 'utf8');
  }
  return files;
}
