/**
 * actionlint, pinned, built from source with the Go toolchain into the git-ignored `.tools/` when it
 * is missing (or another version). `flock` serialises parallel vitest workers and the check is
 * repeated inside the lock, as for moto (test/support/moto.ts). A machine that cannot build it makes
 * the workflow tests fail, never skip: a lint that did not run must not look like one that passed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ACTIONLINT_VERSION = 'v1.7.12';
const MODULE = 'github.com/rhysd/actionlint/cmd/actionlint';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const toolsDir = join(repoRoot, '.tools');
export const actionlintBin = join(toolsDir, 'actionlint');

function installedVersion(): string | undefined {
  if (!existsSync(actionlintBin)) return undefined;
  const r = spawnSync(actionlintBin, ['-version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split('\n')[0]?.trim() : undefined;
}

export function ensureActionlint(): string {
  if (installedVersion() === ACTIONLINT_VERSION) return actionlintBin;
  process.stderr.write(`actionlint ${ACTIONLINT_VERSION} is not in ${toolsDir}: building it with go install (about a minute, once)…\n`);
  const script =
    `if [ "$(${JSON.stringify(actionlintBin)} -version 2>/dev/null | head -n 1)" != ${ACTIONLINT_VERSION} ]; then ` +
    `GOBIN=${JSON.stringify(toolsDir)} go install ${MODULE}@${ACTIONLINT_VERSION}; fi`;
  const r = spawnSync('flock', [join(tmpdir(), 'tenantform-actionlint-install.lock'), 'sh', '-c', script], {
    cwd: repoRoot,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 10 * 60_000,
  });
  if (r.status !== 0 || installedVersion() !== ACTIONLINT_VERSION) {
    const why = r.error?.message ?? (r.stderr || r.stdout || `exit ${r.status}`).trim().slice(-2000);
    throw new Error(
      `actionlint ${ACTIONLINT_VERSION} is not installed and building it failed (${why}). Install Go and run: cd ${repoRoot} && GOBIN=$PWD/.tools go install ${MODULE}@${ACTIONLINT_VERSION}`,
    );
  }
  return actionlintBin;
}

/** The shellcheck on PATH, which actionlint runs on every `run:` script; undefined when absent. */
export function shellcheckPath(): string | undefined {
  const r = spawnSync('sh', ['-c', 'command -v shellcheck'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() !== '' ? r.stdout.trim() : undefined;
}

export interface LintResult {
  code: number;
  output: string;
}

export function actionlint(files: string[]): LintResult {
  const bin = ensureActionlint();
  const shellcheck = shellcheckPath();
  const r = spawnSync(bin, ['-no-color', `-shellcheck=${shellcheck ?? ''}`, ...files], { encoding: 'utf8', cwd: repoRoot });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
}
