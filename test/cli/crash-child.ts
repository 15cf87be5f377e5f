/**
 * A process that installs the CLI's crash handlers and then fails outside main(): `rejection`
 * leaves a promise rejection unawaited, `exception` throws from a timer. Spawned by
 * test/cli/crash-handlers.test.ts.
 */
import { installCrashHandlers } from '../../src/cli/main.js';
import { InternalError, tagRunId } from '../../src/errors.js';

installCrashHandlers();
const which = process.argv[2];
if (which === 'rejection') {
  void Promise.reject(new TypeError('stray rejection of a promise nobody awaited\nsecond line'));
} else if (which === 'tagged') {
  const e = new InternalError('broken invariant after the run', { operation: 'close store' });
  tagRunId(e, 'run-7f3a');
  void Promise.reject(e);
} else {
  setTimeout(() => {
    throw new RangeError('thrown from a timer');
  }, 1);
}
