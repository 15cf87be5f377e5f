/**
 * SIGINT/SIGTERM for a command: turned into an abort of the use case it runs, and, once the use
 * case says it has recorded how its run ended and let go of what it held (or has finished), the
 * signal is raised again so the process ends the way the signal means. Only the CLI installs
 * signal handlers; the use cases and the lease get an AbortSignal.
 */
import { constants } from 'node:os';
import { Interruption } from '../app/interrupt.js';

export interface SignalAbort {
  /** Aborted (with an Interruption) when a signal arrives. */
  signal: AbortSignal;
  /** Says the interrupted work has been recorded and released: the signal may now end the process. */
  handled(): void;
  /** Removes the handlers (a signal already received still ends the process once handled). */
  dispose(): void;
}

export function abortOnSignals(signals: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM']): SignalAbort {
  const controller = new AbortController();
  let markHandled!: () => void;
  const wasHandled = new Promise<void>((resolve) => (markHandled = resolve));
  const remove = () => {
    for (const s of signals) process.off(s, onSignal);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    remove();
    const status = 128 + (constants.signals[signal] ?? 0);
    controller.abort(new Interruption(`interrupted by ${signal}`, status));
    void wasHandled.then(() => {
      // With nobody else listening, re-raise so the process ends the way the signal means.
      if (process.listenerCount(signal) === 0) {
        process.kill(process.pid, signal);
        // A loader's hidden handler (tsx) may still catch the re-raised signal; delivery then needs
        // the event loop alive, and the exit status must still say "killed by signal".
        setTimeout(() => process.exit(status), 1000);
      }
    });
  };
  for (const s of signals) process.on(s, onSignal);
  return { signal: controller.signal, handled: markHandled, dispose: remove };
}
