/**
 * fleet.yaml's `schedules`: each a cron expression that node-cron itself must accept (the schema
 * only says "a string"), so `validate` reports a bad one at its line instead of `serve` failing
 * at start. node-cron reads five fields, or six with seconds first; serve runs them in UTC.
 *
 * `readSchedules` is serve's re-read after each fetch: fleet.yaml alone, and only its
 * `schedules` (the rest of the file is the jobs' business, which report it themselves), checked
 * as the schema and `checkSchedules` check it, so a bad edit keeps the running schedules.
 */
import { join } from 'node:path';
import { validateDetailed } from 'node-cron';
import type { Diagnostic } from './diagnostics.js';
import { FLEET_FILE } from './layout.js';
import type { ScheduledJob, Schedules } from './model.js';
import { located, parseYaml, readText } from './source.js';

export const SCHEDULED_JOBS: readonly ScheduledJob[] = ['plan', 'drift', 'sweep', 'apply'];

export function checkSchedules(schedules: Schedules | undefined, error: (path: (string | number)[], message: string) => void): void {
  for (const [job, expression] of Object.entries(schedules ?? {})) {
    if (expression === undefined) continue;
    const verdict = validateDetailed(expression);
    if (verdict.valid) continue;
    const why = verdict.errors.map((e) => e.message).join('; ') || 'not a cron expression';
    error(
      ['schedules', job],
      `The ${job} schedule "${expression}" is not a valid cron expression (${why}); use five fields, or six with seconds first, e.g. "*/15 * * * *".`,
    );
  }
}

export type ScheduleRead = { ok: true; schedules: Schedules } | { ok: false; message: string };

/** The `schedules` of `<repoDir>/fleet.yaml` as it is now; a problem is one `fleet.yaml:line: …` message. */
export function readSchedules(repoDir: string): ScheduleRead {
  const diagnostics: Diagnostic[] = [];
  const fail = (): ScheduleRead => ({ ok: false, message: diagnostics.map((d) => `${d.file}:${d.line}: ${d.message}`).join('; ') });
  const text = readText(join(repoDir, FLEET_FILE), FLEET_FILE, diagnostics);
  const parsed = text === undefined ? undefined : parseYaml(FLEET_FILE, text, diagnostics);
  if (!parsed) return fail();
  const error = (path: (string | number)[], message: string, target: 'key' | 'value' = 'value') => diagnostics.push(located(parsed, 'error', path, message, target));
  const raw = typeof parsed.value === 'object' && parsed.value !== null ? (parsed.value as { schedules?: unknown }).schedules : undefined;
  if (raw === undefined || raw === null) return { ok: true, schedules: {} };
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    error(['schedules'], 'schedules must be a mapping of job (plan, drift, sweep, apply) to a cron expression.');
    return fail();
  }
  const schedules: Schedules = {};
  for (const [job, expression] of Object.entries(raw as Record<string, unknown>)) {
    if (!SCHEDULED_JOBS.includes(job as ScheduledJob)) error(['schedules', job], `"${job}" is not a job serve runs (plan, drift, sweep, apply).`, 'key');
    else if (typeof expression !== 'string' || expression === '') error(['schedules', job], `The ${job} schedule must be a cron expression in a string.`);
    else schedules[job as ScheduledJob] = expression;
  }
  checkSchedules(schedules, error);
  return diagnostics.length > 0 ? fail() : { ok: true, schedules };
}
