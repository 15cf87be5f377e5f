/**
 * Renders validation diagnostics for people (text), for GitHub Actions (workflow commands that
 * become annotations on the pull request) and for programs (JSON). Diagnostics never hold secret
 * values, so nothing here redacts.
 */
import type { Diagnostic, Severity } from '../desired/diagnostics.js';

export interface ValidationSummary {
  tenants: number;
  workspaces: number;
  hash: string | undefined;
  commit: string | undefined;
}

export interface ValidationReport {
  valid: boolean;
  counts: Record<Severity, number>;
  diagnostics: Diagnostic[];
  /** Present when the fleet loaded. */
  fleet: ValidationSummary | undefined;
}

export function buildReport(diagnostics: Diagnostic[], fleet: ValidationSummary | undefined): ValidationReport {
  const counts: Record<Severity, number> = { error: 0, warning: 0, notice: 0 };
  for (const d of diagnostics) counts[d.severity]++;
  return { valid: counts.error === 0, counts, diagnostics, fleet };
}

function where(d: Diagnostic): string {
  if (d.file === '') return 'environment';
  // Line 0: a folder or a whole file, with no position inside it.
  return d.line === 0 ? d.file : `${d.file}:${d.line}:${d.col}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

const headings: Record<Severity, string> = { error: 'Errors', warning: 'Warnings', notice: 'Notices' };
const colours: Record<Severity, string> = { error: '\x1b[31m', warning: '\x1b[33m', notice: '\x1b[2m' };

/** Errors, then warnings, then notices, each as `file:line:col  path  sentence`. */
export function renderText(report: ValidationReport, color: boolean): string {
  const paint = (s: Severity, text: string) => (color ? `${colours[s]}${text}\x1b[0m` : text);
  const lines: string[] = [];
  for (const severity of ['error', 'warning', 'notice'] as const) {
    const group = report.diagnostics.filter((d) => d.severity === severity);
    if (group.length === 0) continue;
    lines.push(paint(severity, `${headings[severity]}:`));
    for (const d of group) lines.push(`  ${where(d)}  ${d.path === '' ? '' : `${d.path}  `}${d.message}`);
    lines.push('');
  }
  const { error, warning, notice } = report.counts;
  const extras = [warning > 0 ? plural(warning, 'warning') : '', notice > 0 ? plural(notice, 'notice') : ''].filter(Boolean).join(', ');
  if (report.valid) {
    const size = report.fleet ? `: ${plural(report.fleet.tenants, 'tenant')}, ${plural(report.fleet.workspaces, 'workspace')}` : '';
    lines.push(`The fleet is valid${size}${extras ? ` (${extras})` : ''}.`);
  } else {
    lines.push(paint('error', `The fleet is not valid: ${plural(error, 'error')}${extras ? `, ${extras}` : ''}.`));
  }
  return `${lines.join('\n')}\n`;
}

/** https://docs.github.com/actions/reference/workflow-commands-for-github-actions (escaping as in @actions/core). */
function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}
function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

export function renderGithub(report: ValidationReport): string {
  const lines = report.diagnostics.map((d) => {
    const props =
      d.file === ''
        ? [`title=${escapeProperty(d.path)}`]
        : [`file=${escapeProperty(d.file)}`, ...(d.line === 0 ? [] : [`line=${d.line}`, `col=${d.col}`]), ...(d.path ? [`title=${escapeProperty(d.path)}`] : [])];
    return `::${d.severity} ${props.join(',')}::${escapeData(d.message)}`;
  });
  const { error, warning, notice } = report.counts;
  lines.push(
    report.valid
      ? `The fleet is valid (${plural(warning, 'warning')}, ${plural(notice, 'notice')}).`
      : `The fleet is not valid: ${plural(error, 'error')}, ${plural(warning, 'warning')}, ${plural(notice, 'notice')}.`,
  );
  return `${lines.join('\n')}\n`;
}

export function renderJson(report: ValidationReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
