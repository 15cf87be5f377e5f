/**
 * What someone editing a saved plan does: change it, then recompute its digest (sha256 of the
 * JSON without the digest field — computed here, independently of src). A recomputed digest
 * passes the file check; apply's guard re-checks must still refuse what is dangerous.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';

export type PlanDoc = Record<string, unknown> & { actions: Record<string, unknown>[] };

export function readPlanDoc(path: string): PlanDoc {
  return JSON.parse(readFileSync(path, 'utf8')) as PlanDoc;
}

export function withRecomputedDigest(doc: Record<string, unknown>): Record<string, unknown> {
  const { formatVersion, digest: _old, ...rest } = doc;
  const body = { formatVersion, ...rest };
  return { formatVersion, digest: createHash('sha256').update(JSON.stringify(body)).digest('hex'), ...rest };
}

/** Writes the edited plan, with its old digest (`keepDigest`) or a recomputed one. */
export function writeForged(path: string, doc: Record<string, unknown>, opts: { keepDigest?: boolean } = {}): void {
  writeFileSync(path, JSON.stringify(opts.keepDigest ? doc : withRecomputedDigest(doc), null, 2));
}
