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
