/**
 * A problem found in the fleet repository or the environment, located precisely enough that a
 * person (or a GitHub annotation) can jump to it. Notices report effective values that differ
 * from what was written (tier clamp, volume floor); they never fail validation.
 */
export type Severity = 'error' | 'warning' | 'notice';

export interface Diagnostic {
  severity: Severity;
  /** Path relative to the fleet repository, '/'-separated; '' for the environment. */
  file: string;
  /** 1-based; 0 when the problem has no position (the environment, a missing file). */
  line: number;
  col: number;
  /** Where inside the document, e.g. `tiers[1].volumeGb`; the variable name for the environment. */
  path: string;
  /** One plain sentence. */
  message: string;
}

export type DocPath = readonly (string | number)[];

/** `tiers[1].volumeGb` from ['tiers', 1, 'volumeGb']. */
export function formatPath(path: DocPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

const severityRank: Record<Severity, number> = { error: 0, warning: 1, notice: 2 };

/** Errors first, then by file and position, so output is stable whatever order files were read in. */
export function sortDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  return diagnostics.sort(
    (a, b) =>
      severityRank[a.severity] - severityRank[b.severity] ||
      (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) ||
      a.line - b.line ||
      a.col - b.col ||
      (a.message < b.message ? -1 : a.message > b.message ? 1 : 0),
  );
}
