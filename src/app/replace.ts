import { InputError } from '../errors.js';

/** `--replace` values: `<slug>` or `<slug>/<workspace>`, each checked against the fleet repository. */
export function parseReplace(values: readonly string[] | undefined, unknown: (requests: string[]) => string[]): string[] {
  const requests = [...new Set((values ?? []).map((v) => v.trim()))];
  for (const r of requests) {
    if (!/^[^/\s]+(\/[^/\s]+)?$/.test(r)) {
      throw new InputError(`expected <slug> or <slug>/<workspace>, got "${r}"`, { operation: 'read command line', resource: '--replace' });
    }
  }
  const missing = unknown(requests);
  if (missing.length > 0) {
    throw new InputError(`${missing.join(', ')}: no such tenant or workspace is declared in the fleet repository`, {
      operation: 'read command line',
      resource: '--replace',
    });
  }
  return requests;
}
