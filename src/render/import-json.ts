/** `tenantform import --json`: the result as it is (steps described as in the text), pretty for people. */
import { describeStep } from '../import/steps.js';
import type { ImportResult } from '../app/import.js';

export const IMPORT_FORMAT_VERSION = 1;

export function renderImportJson(r: ImportResult): string {
  const { adoption, diagnostics: _diagnostics, code, ...rest } = r;
  const out = {
    formatVersion: IMPORT_FORMAT_VERSION,
    exitCode: code,
    ...rest,
    ...(adoption
      ? {
          adoption: {
            steps: adoption.steps.map((s) => ({ ...s, description: describeStep(s) })),
            plan: { actions: adoption.plan.actions, guards: adoption.plan.guards, notices: adoption.plan.notices, summary: adoption.plan.summary },
            applied: adoption.applied,
            confirmed: adoption.confirmed,
            ...(adoption.failed !== undefined ? { failed: adoption.failed } : {}),
          },
        }
      : {}),
  };
  return `${JSON.stringify(out, null, 2)}\n`;
}
