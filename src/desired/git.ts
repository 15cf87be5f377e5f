import { simpleGit } from 'simple-git';

/** HEAD of the git work tree holding `dir`, or undefined (not a work tree, no commits, no git). */
export async function headCommit(dir: string): Promise<string | undefined> {
  try {
    const git = simpleGit({ baseDir: dir });
    if (!(await git.checkIsRepo())) return undefined;
    const head = (await git.revparse(['HEAD'])).trim();
    return /^[0-9a-f]{40,64}$/.test(head) ? head : undefined;
  } catch {
    return undefined;
  }
}
