/**
 * `drift --json`: the result object as it is (version 1). Fields are only ever added within a
 * version; a rename or removal bumps it.
 */
import type { DriftResult } from '../drift/model.js';

export function renderDriftJson(r: DriftResult): string {
  return `${JSON.stringify({ kind: 'drift', ...r }, null, 2)}\n`;
}
