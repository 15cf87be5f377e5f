/**
 * fleet.yaml's `schedules`: each a cron expression that node-cron itself must accept (the schema
 * only says "a string"), so `validate` reports a bad one at its line instead of `serve` failing
 * at start. node-cron reads five fields, or six with seconds first; serve runs them in UTC.
 */
import { validateDetailed } from 'node-cron';
import type { Schedules } from './model.js';

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
