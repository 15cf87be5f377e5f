import { simpleGit } from 'simple-git';

/** HEAD of the git work tree holding `dir`, or undefined (not a work tree, no commits, no git). */
export async function headCommit(dir: string): Promise<string | undefined> {
  try {
    // One git process: rev-parse fails outside a work tree and before the first commit alike.
    const head = (await simpleGit({ baseDir: dir }).revparse(['--verify', '--quiet', 'HEAD'])).trim();
    return /^[0-9a-f]{40,64}$/.test(head) ? head : undefined;
  } catch {
    return undefined;
  }
}

export interface FleetTree {
  /** False when the folder is not inside a git work tree (or git is not installed). */
  git: boolean;
  /** HEAD, when there is one. */
  commit: string | undefined;
  /**
   * Files that shape the desired state (fleet.yaml, tenants/) and differ from HEAD — staged,
   * unstaged, deleted or untracked — relative to `dir`, sorted. Other files (a plan.json, the
   * audit database) do not make a tree dirty: they change nothing apply does.
   */
  dirty: string[];
}

const FLEET_PATHS = ['fleet.yaml', 'tenants'];

/** What apply is about to act on, compared with what git will record for it. */
export async function fleetTree(dir: string): Promise<FleetTree> {
  const git = simpleGit({ baseDir: dir });
  try {
    if ((await git.raw(['rev-parse', '--is-inside-work-tree'])).trim() !== 'true') return { git: false, commit: undefined, dirty: [] };
  } catch {
    return { git: false, commit: undefined, dirty: [] };
  }
  const commit = await headCommit(dir);
  const split = (out: string) => out.split('\0').filter((p) => p !== '');
  // -z: NUL-separated and unquoted; --relative / ls-files: paths relative to dir.
  const changed = commit
    ? split(await git.raw(['diff', '-z', '--name-only', '--no-renames', '--relative', '--end-of-options', commit, '--', ...FLEET_PATHS]))
    : split(await git.raw(['ls-files', '-z', '--cached', '--', ...FLEET_PATHS]));
  const untracked = split(await git.raw(['ls-files', '-z', '--others', '--exclude-standard', '--', ...FLEET_PATHS]));
  return { git: true, commit, dirty: [...new Set([...changed, ...untracked])].sort() };
}
