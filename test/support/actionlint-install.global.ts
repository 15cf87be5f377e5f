/**
 * vitest globalSetup: builds the pinned actionlint into .tools/ once, before any worker starts, so
 * no test's time limit has to hold a cold `go install` (about a minute). A failure is only reported
 * here; the workflow tests then fail with the command to run (ensureActionlint tries again).
 */
import { ensureActionlint } from './actionlint.js';

export default function installActionlint(): void {
  try {
    ensureActionlint();
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  }
}
