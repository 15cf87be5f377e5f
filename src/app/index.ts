/**
 * The use cases, one function each, and the shape every new command (drift, sweep, serve,
 * import) follows:
 *
 *   useCase(input) -> Promise<result>
 *
 * - `input` carries everything the run depends on, explicitly: the fleet repository's directory,
 *   the variables the wiring is read from (`wiringEnv`), a factory for the cloud clients
 *   (`clients`), the audit store (or how to open it), a Redactor of the caller's, an AbortSignal
 *   (an outside stop: the CLI makes one from SIGINT/SIGTERM, a daemon from a cancelled job), a
 *   progress sink, and seams (clock, now) for tests.
 * - It returns a result object (the plan, the change set, the diagnostics that stopped it) and
 *   throws TenantformErrors for predictable failures; it never prints, never reads
 *   `process.env` or `process.cwd()`, never installs signal handlers and keeps no module state,
 *   so several can run in one process, in turn or at once (test/app/concurrent.test.ts).
 * - src/cli/ parses flags into such an input, asks for confirmation (apply's `confirm`), renders
 *   the result and maps it to an exit code.
 */
export { validateFleet, type ValidateInput, type ValidateResult } from './validate.js';
export { planFleet, type PlanInput, type PlanResult } from './plan.js';
export { applyFleet, type ApplyInput, type ApplyResult } from './apply.js';
export { readHistory, type HistoryInput, type HistoryResult } from './history.js';
export { sweepFleet, type SweepInput, type SweepResult } from './sweep.js';
export { Interruption } from './interrupt.js';
export type { CloudSession, CloudSessionFactory, CloudSessionRequest, ProgressEvent, ProgressSink, WiringEnv } from './ports.js';
