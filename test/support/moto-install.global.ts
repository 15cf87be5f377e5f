/**
 * vitest globalSetup: installs moto into .venv once, before any worker starts, so that no test's
 * or hook's time limit has to hold a first-time pip install (about 80 s on the 2-core machine).
 * A failure is only reported here: tests that need no emulator still run, and every test that
 * needs moto fails with the install command (ensureMotoInstalled tries again and says how).
 */
import { ensureMotoInstalled } from './moto.js';

export default function installMoto(): void {
  try {
    ensureMotoInstalled();
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  }
}
