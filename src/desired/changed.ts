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
  const refused = (detail: string, cause?: unknown) =>
    new InputError(detail, { operation: 'compute --changed-since scope', resource: `git ref "${ref}"`, ...(cause === undefined ? {} : { cause }) });
  // A "ref" starting with "-" would reach git as an option (--output=FILE makes git diff write a
  // file): refused before git runs, and every git call below also ends its options explicitly.
  if (ref.startsWith('-') || ref.trim() === '') throw refused('not a git revision (a ref cannot be empty or start with "-")');
  const git = simpleGit({ baseDir: repoDir });
  let diff: string;
  let untracked: string;
  try {
    // Resolve first so a bad ref is reported as such. simple-git treats a non-zero exit with an
    // empty stderr (what --quiet gives) as success, so the answer itself is checked.
    const commit = (await git.raw(['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`])).trim();
    if (!/^[0-9a-f]{40,64}$/.test(commit)) throw refused(`does not resolve to a commit in ${repoDir}`);
    // --relative: paths relative to repoDir, which may sit below the work tree's root. The
    // resolved id, not the ref as typed, goes to git diff.
    diff = await git.raw(['diff', '-z', '--name-only', '--no-renames', '--relative', '--end-of-options', commit, '--', '.']);
    untracked = await git.raw(['ls-files', '-z', '--others', '--exclude-standard', '--', '.']);
  } catch (cause) {
    if (cause instanceof InputError) throw cause;
    throw refused(`cannot compare with it: ${describeCause(cause).trim().split('\n')[0]}`, cause);
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
