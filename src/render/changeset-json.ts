/** `apply --json`: the change set as it is stored in the run's summary. Pretty for people, compact for pipes. */
import type { ChangeSet } from '../changeset/model.js';

export function renderChangeSetJson(cs: ChangeSet, opts: { pretty: boolean } = { pretty: true }): string {
  return `${JSON.stringify(cs, null, opts.pretty ? 2 : undefined)}\n`;
}
