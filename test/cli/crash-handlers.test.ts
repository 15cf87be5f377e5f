/**
 * A failure outside main() — an unawaited promise rejection, an exception from a timer — is
 * reported like a bug inside main (test/cli/bug-report.test.ts): one line saying it is a bug,
 * naming the run when the error carries one, exit 1, and the stack only with TENANTFORM_DEBUG=1.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CHILD = fileURLToPath(new URL('./crash-child.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const STACK_FRAME = /^\s+at /m;

function run(which: string, env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const { TENANTFORM_DEBUG: _ignored, ...rest } = process.env;
    const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, which], { cwd: REPO, env: { ...rest, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.on('error', reject);
    proc.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('crash handlers of the CLI entry', () => {
  it('an unawaited rejection: one line, "this is a bug", exit 1, no stack', async () => {
    const r = await run('rejection');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('error: internal error: stray rejection of a promise nobody awaited — this is a bug in tenantform, please report it\n');
    expect(r.stderr).not.toMatch(STACK_FRAME);
  });

  it('names the run when the error carries one', async () => {
    const r = await run('tagged');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: internal error: close store: broken invariant after the run — this is a bug in tenantform, please report it (run run-7f3a)\n');
  });

  it('an uncaught exception from a timer: the same one line', async () => {
    const r = await run('exception');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: internal error: thrown from a timer — this is a bug in tenantform, please report it\n');
  });

  it('with TENANTFORM_DEBUG=1 the stack follows the line', async () => {
    const r = await run('rejection', { TENANTFORM_DEBUG: '1' });
    expect(r.code).toBe(1);
    const [first, ...rest] = r.stderr.split('\n');
    expect(first).toBe('error: internal error: stray rejection of a promise nobody awaited — this is a bug in tenantform, please report it');
    expect(rest.join('\n')).toMatch(/^TypeError: stray rejection of a promise nobody awaited\nsecond line\n\s+at /);
  });
});
