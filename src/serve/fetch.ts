/**
 * Before each job serve brings the fleet checkout to the tip of its branch: fetch, then
 * fast-forward only. Anything else (the fetch fails, the remote branch was rewritten, the
 * checkout has local commits or changes in the way) fails the job with one sentence and leaves
 * the tree as it was, so a job never runs against a half-updated tree. `git merge --ff-only`
 * checks before it touches the work tree, and the ancestry check refuses a force-push up front.
 */
import { simpleGit } from 'simple-git';
import { TenantformError } from '../errors.js';

export interface FetchTarget {
  repoDir: string;
  remote: string;
  branch: string;
}

export interface FetchResult {
  /** The commit HEAD is at afterwards, which the job runs against and records. */
  commit: string;
  /** The commit HEAD was at before (equal to `commit` when nothing new arrived). */
  previous: string;
}

export class FetchError extends TenantformError {}

export async function fetchFastForward(target: FetchTarget): Promise<FetchResult> {
  const { repoDir, remote, branch } = target;
  const git = simpleGit({ baseDir: repoDir });
  const resource = `${remote}/${branch} into ${repoDir}`;
  const fail = (detail: string, cause?: unknown): never => {
    throw new FetchError(detail, { operation: 'fetch fleet repository', resource, ...(cause === undefined ? {} : { cause }) });
  };
  const previous = (await git.revparse(['HEAD']).catch((e: unknown) => fail('the checkout has no commit', e))).trim();
  await git.fetch(remote, branch).catch((e: unknown) => fail(`git fetch failed: ${firstLine(e)}`, e));
  const upstream = `refs/remotes/${remote}/${branch}`;
  const tip = (await git.revparse([upstream]).catch((e: unknown) => fail(`the remote has no branch ${branch}`, e))).trim();
  if (tip === previous) return { commit: tip, previous };
  // Not `merge-base --is-ancestor`: simple-git resolves a non-zero exit that prints nothing.
  const base = (await git.raw(['merge-base', previous, tip]).catch(() => '')).trim();
  const ancestor = base === previous;
  if (!ancestor) {
    fail(
      `not a fast-forward: ${remote}/${branch} is at ${tip.slice(0, 12)}, which does not contain the checked-out ${previous.slice(0, 12)} (was the branch force-pushed, or are there local commits?); nothing was changed`,
    );
  }
  await git.raw(['merge', '--ff-only', '--quiet', tip]).catch((e: unknown) => fail(`could not fast-forward to ${tip.slice(0, 12)}: ${firstLine(e)}`, e));
  const commit = (await git.revparse(['HEAD'])).trim();
  if (commit !== tip) fail(`HEAD is at ${commit.slice(0, 12)} after fast-forwarding to ${tip.slice(0, 12)}`);
  return { commit, previous };
}

function firstLine(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return (
    text
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l.length > 0) ?? text
  );
}
