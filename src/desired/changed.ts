/**
 * The scope of a pull request: which tenants' files differ between a git ref and the working tree
 * (committed, staged, unstaged and untracked changes alike, deletions included). A rename counts
 * as a delete of the old slug and an add of the new one.
 *
 * A change to fleet.yaml widens the scope to every tenant: fleet settings (images, pins, tiers,
 * clamps, floors, guards) reach tenants through resolution rules, and a narrower guess that missed
 * one would plan an incomplete change. Files outside fleet.yaml and tenants/ do not affect the
 * desired state.
 */
import { simpleGit } from 'simple-git';
import { InputError, describeCause } from '../errors.js';
import { FLEET_FILE, TENANTS_DIR } from './layout.js';

export interface ChangedScope {
  /** True when a change affects every tenant (fleet.yaml). */
  all: boolean;
  /** Slugs whose tenant directory changed, sorted; listed even when `all` is true. */
  slugs: string[];
  /** Repo-relative paths that changed, for messages. */
  files: string[];
}

export async function changedScope(repoDir: string, ref: string): Promise<ChangedScope> {
  const git = simpleGit({ baseDir: repoDir });
  let diff: string;
  let untracked: string;
  try {
    // Resolve first so a bad ref is reported as such, not as a diff failure.
    await git.raw(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
    // --relative: paths relative to repoDir, which may sit below the work tree's root.
    diff = await git.raw(['diff', '-z', '--name-only', '--no-renames', '--relative', ref, '--', '.']);
    untracked = await git.raw(['ls-files', '-z', '--others', '--exclude-standard', '--', '.']);
  } catch (cause) {
    throw new InputError(`cannot compare with git ref "${ref}": ${describeCause(cause).trim()}`, {
      operation: 'compute --changed-since scope',
      resource: repoDir,
      cause,
    });
  }
  // -z: NUL-separated and unquoted, whatever characters the paths hold.
  const files = new Set([...diff.split('\0'), ...untracked.split('\0')].filter((p) => p !== ''));
  return scopeOfFiles([...files]);
}

/** Pure: which tenants a set of changed repo-relative paths affects. */
export function scopeOfFiles(paths: readonly string[]): ChangedScope {
  const slugs = new Set<string>();
  let all = false;
  for (const p of paths) {
    const parts = p.split('/');
    if (parts.length === 1 && parts[0] === FLEET_FILE) all = true;
    else if (parts[0] === TENANTS_DIR && parts.length >= 3 && parts[1]) slugs.add(parts[1]);
  }
  return { all, slugs: [...slugs].sort(), files: [...paths].sort() };
}
