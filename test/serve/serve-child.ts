/**
 * `tenantform serve` as its own process for the SIGTERM test: the real command with node-cron's
 * schedule swapped for one that fires the apply job as soon as serve is listening. Signals are
 * serve's own (no stopWhen), exactly as the shipped command handles them.
 */
import { processIo } from '../../src/cli/io.js';
import { runServe } from '../../src/cli/serve.js';
import type { ScheduleFn } from '../../src/serve/scheduler.js';

const [repo, db] = process.argv.slice(2);
let fireApply: (() => void) | undefined;
const schedule: ScheduleFn = (_expression, fire, options) => {
  if (options.name === 'tenantform-apply') fireApply = fire;
  return { stop: () => undefined };
};
const code = await runServe(processIo(), { repo: repo!, db: db!, listen: '127.0.0.1:0', stopDeadline: '1' }, { schedule, onReady: () => fireApply?.() });
process.exitCode = code;
