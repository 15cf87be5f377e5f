import { fleetTree } from '../desired/git.js';
import { InputError } from '../errors.js';
import type { ProgressSink } from './ports.js';

export interface RecordedCommit {
  commit: string | undefined;
  dirty?: string[];
  /** Said once the run holds the lease (a refused rival's only line is the refusal). */
  note?: string;
}

/**
 * Apply acts on the working tree but records a commit: uncommitted changes to the fleet files
 * would be applied while the audit and the GitCommit tags say HEAD. Refused (exit 1, naming the
 * files) unless allowDirty, which records `<HEAD>-dirty` and the files. A folder outside git
 * records no commit, as before, and says so in one line.
 */
export async function recordedCommit(dir: string, allowDirty: boolean, progress: ProgressSink): Promise<RecordedCommit> {
  const tree = await fleetTree(dir);
  if (!tree.git) return { commit: undefined, note: `${dir} is not in a git work tree, so this run records no commit` };
  if (tree.dirty.length === 0) return { commit: tree.commit };
  const shown = tree.dirty.slice(0, 20).join(', ') + (tree.dirty.length > 20 ? ` and ${tree.dirty.length - 20} more` : '');
  const count = `${tree.dirty.length} file${tree.dirty.length === 1 ? '' : 's'}`;
  if (!allowDirty) {
    throw new InputError(`the fleet repository has uncommitted changes to ${count} (${shown}); commit them, or pass --allow-dirty to apply the working tree as it is`, {
      operation: 'apply',
      resource: dir,
    });
  }
  const commit = tree.commit ? `${tree.commit}-dirty` : undefined;
  progress({
    kind: 'warning',
    message: `applying uncommitted changes to ${count} (${shown}) with --allow-dirty; recorded as ${commit ?? 'a dirty tree without commit'}`,
  });
  return { commit, dirty: tree.dirty };
}
