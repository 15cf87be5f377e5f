/**
 * Headless Chromium for the web view's browser tests: the Debian `chromium` package driven by
 * playwright-core through `executablePath` (playwright-core downloads no browser). A machine
 * without the binary FAILS the test with the install command; it never skips (.ci/run installs
 * it when missing). Flags: --no-sandbox because CI runs as root here, --disable-gpu and
 * --disable-background-networking so the browser makes no call of its own.
 *
 * Screenshots go to test-artifacts/ at the repository root (git-ignored), kept after the run.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = process.env['TENANTFORM_CHROMIUM'] ?? '/usr/bin/chromium';
export const ARTIFACTS_DIR = new URL('../../test-artifacts/', import.meta.url).pathname;

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `headless Chromium is missing at ${CHROMIUM_PATH}: install it with \`apt-get install -y chromium\` (or set TENANTFORM_CHROMIUM to a Chromium binary)`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/** Where a screenshot named `name` is kept (the directory is created). */
export function artifactPath(name: string): string {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  return join(ARTIFACTS_DIR, name);
}
