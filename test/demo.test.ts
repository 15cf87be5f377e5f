/**
 * `npm run demo` as a person would run it: a child process on the example fleet, which must exit
 * 0, print what exists after the cascade delete, and leave no temp directory behind.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));

function runDemo(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts'], { cwd: REPO_ROOT, env: { ...process.env, NO_COLOR: '1' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run demo', () => {
  it('applies the example fleet, deletes globex by cascade and prints what is left', { timeout: 120_000 }, async () => {
    const res = await runDemo();
    expect(res.code, res.stdout.slice(-3000) + res.stderr).toBe(0);
    const out = res.stdout;
    // The operator sees the CLI's own output for each step.
    expect(out).toContain('$ tenantform apply --auto-approve');
    expect(out).toContain('Apply: 8 ok, 0 failed, 0 skipped. Applied (exit 0).');
    expect(out).toMatch(/✓ delete tenant globex/);
    expect(out.match(/Plan: no changes\. Nothing to do \(exit 0\)\./g)).toHaveLength(2);
    // The summary, read from the emulators after globex is gone.
    expect(out).toContain('instances:       2 tenant running, 1 tenant stopped, 3 workspace running; 2 terminated');
    expect(out).toMatch(/acme\s+tenant=running workspace=running workspace=running/);
    expect(out).not.toMatch(/^\s+globex\s/m);
    expect(out).toContain('security groups: 6 (3 tenant, 3 workspace)');
    expect(out).toContain('secrets:         3 active, 1 scheduled for deletion');
    expect(out).toContain('tunnels:         3 active, 1 deleted');
    expect(out).toContain('DNS records:     3 (CNAME acme.tenants.example.dev, CNAME initech.tenants.example.dev, CNAME umbrella.tenants.example.dev)');
    expect(out).toContain('every step did what it should');

    const dirs = [...out.matchAll(/\(in (\/\S+)\)/g), ...out.matchAll(/audit database (\S+)\/audit\.db/g)].map((m) => m[1]!);
    expect(dirs.length).toBeGreaterThan(1);
    for (const dir of dirs) expect(existsSync(dir), `${dir} was left behind`).toBe(false);
  });
});
