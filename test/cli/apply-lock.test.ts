/**
 * One apply at a time per environment: two applies started together on one audit database
 * (two in-process runs, distinct holders; and two child processes of the built CLI) → exactly one
 * runs, the other exits 3 naming the holder.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { ORG, startApplyWorld, type ApplyWorld, type RunResult } from './apply-world.js';

describe('two applies started together', () => {
  let w: ApplyWorld;
  beforeAll(async () => {
    w = await startApplyWorld();
  });
  afterAll(async () => {
    await w?.close();
  });

  it('exactly one runs; the other exits 3 naming the holder and changes nothing', async () => {
    let second: RunResult | undefined;
    let mutatingDuringSecond: { aws: string[]; cf: string[] } | undefined;
    const first = await w.run(['apply', '--auto-approve'], {
      deps: {
        // The rival starts while the first holds the lease and before it has observed anything.
        onLocked: async () => {
          const traffic = w.mark();
          second = await w.run(['apply', '--auto-approve']);
          mutatingDuringSecond = traffic();
        },
      },
    });
    expect(first.code).toBe(0);
    expect(second?.code).toBe(3);
    expect(second?.stderr).toMatch(/^error: lock environment dev: held by run [0-9a-f-]{36} \(pid \d+ on .+, started .+; lease expires .+\)/);
    expect(mutatingDuringSecond).toEqual({ aws: [], cf: [] });
    expect(
      w
        .runs()
        .map((r) => `${r.status} ${r.exit_code}`)
        .sort(),
    ).toEqual(['refused 3', 'succeeded 0']);
    // One launch per declared instance: nobody applied twice.
    expect(await w.instances(ORG.acme)).toHaveLength(3);
    expect(w.aws.calls.filter((c) => c.action === 'RunInstances')).toHaveLength(8);
  });

  it('the lease is released on exit, so the next apply runs', async () => {
    const traffic = w.mark();
    const res = await w.run(['apply', '--auto-approve']);
    expect(res.code).toBe(0);
    expect(traffic()).toEqual({ aws: [], cf: [] });
  });
});

describe('an apply interrupted by SIGINT', () => {
  let w: ApplyWorld;
  beforeAll(async () => {
    w = await startApplyWorld();
  });
  afterAll(async () => {
    await w?.close();
  });

  it('records its run as interrupted and releases the lease before the signal ends it; the next apply runs', async () => {
    // A listener of the test's own: with one present, the lease does not re-raise the signal, so
    // this worker survives what would end a real CLI right after the lease is released.
    const survive = () => undefined;
    process.on('SIGINT', survive);
    let atSignal: { runs: string[]; lease: unknown } | undefined;
    const traffic = w.mark();
    try {
      const interrupted = await w.run(['apply', '--auto-approve'], {
        deps: {
          onLocked: async () => {
            process.emit('SIGINT', 'SIGINT');
            const observer = openSqliteStore(w.db);
            try {
              // The handler records the run, then releases the lease: wait for the release.
              while ((await observer.currentLease('dev')) !== undefined) await new Promise((r) => setImmediate(r));
              atSignal = { runs: w.runs().map((r) => `${r.status} ${r.exit_code}`), lease: await observer.currentLease('dev') };
            } finally {
              await observer.close();
            }
          },
        },
      });
      // In a real CLI the process ends here; in-process, the run goes on and starts nothing.
      expect(interrupted.code).toBe(4);
      expect(interrupted.stdout).toContain('skipped (interrupted): not started: hold lock environment dev: interrupted by SIGINT');
      expect(interrupted.stdout).toContain('Apply: 0 ok, 0 failed, 8 skipped');
    } finally {
      process.off('SIGINT', survive);
    }
    expect(atSignal).toEqual({ runs: ['interrupted 130'], lease: undefined });
    expect(traffic()).toEqual({ aws: [], cf: [] });

    const next = await w.run(['apply', '--auto-approve']);
    expect(next.code).toBe(0);
    expect(next.stdout).toContain('Apply: 8 ok, 0 failed, 0 skipped');
  });
});

describe('two applies started together as child processes of the built CLI', () => {
  let w: ApplyWorld;
  beforeAll(async () => {
    w = await startApplyWorld();
  });
  afterAll(async () => {
    await w?.close();
  });

  const bin = fileURLToPath(new URL('../../bin/tenantform.js', import.meta.url));
  function child(): Promise<{ pid: number; code: number | null; stdout: string; stderr: string }> {
    const p = spawn(process.execPath, [bin, 'apply', '--auto-approve', '--db', w.db], { cwd: w.dir, env: { PATH: process.env.PATH, ...w.env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    return new Promise((resolve, reject) => {
      p.once('error', reject);
      p.once('close', (code) => resolve({ pid: p.pid!, code, stdout, stderr }));
    });
  }

  it('exactly one applies; the other exits 3 naming the first', { timeout: 180_000 }, async () => {
    expect(existsSync(new URL('../../dist/cli/apply.js', import.meta.url)), 'dist/ is missing or old: run `npm run build` (npm test does it first)').toBe(true);
    const results = await Promise.all([child(), child()]);
    const winner = results.find((r) => r.code === 0);
    const loser = results.find((r) => r.code === 3);
    expect(results.map((r) => r.code).sort(), results.map((r) => r.stderr).join('\n')).toEqual([0, 3]);
    expect(loser!.stderr).toContain(`(pid ${winner!.pid} on `);
    expect(winner!.stdout).toContain('Apply: 8 ok, 0 failed, 0 skipped');
    expect(w.aws.calls.filter((c) => c.action === 'RunInstances')).toHaveLength(8);
  });
});
