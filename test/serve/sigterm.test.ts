import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServeRepo, type ServeRepo } from './serve-world.js';

const CHILD = new URL('./serve-child.ts', import.meta.url).pathname;
let repo: ServeRepo;

beforeAll(async () => {
  // One tenant at a time: globex's stopped workspace waits out its 30 s launch before initech and
  // umbrella start, so work is always left unstarted when the 1 s stop deadline passes, however
  // late a loaded machine runs serve's SIGTERM handler (with every tenant at once, all had started
  // once and the apply finished 'ok' inside the deadline).
  repo = await startServeRepo('schedules:\n  apply: "0 0 1 1 *"\nbudgets:\n  concurrency: 1\n');
}, 120_000);
afterAll(() => repo.world.close());

describe('serve on SIGTERM mid-apply', () => {
  it('aborts the apply safely after the stop deadline, records it interrupted, releases the lease and exits 0', async () => {
    const { world } = repo;
    // Launched instances stay pending for 30 s of wall time (as on AWS, where a launch takes a
    // while), so the apply is still waiting for them when the 1 s stop deadline passes: without
    // this, a quick apply could finish inside the deadline and the abort would never be tested.
    world.aws.faults.faithful.transitionMs = 30_000;
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, world.dir, world.db], {
      // From the project root, so the child resolves tsx; the fleet checkout is passed as --repo.
      cwd: new URL('../../', import.meta.url).pathname,
      env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', ...world.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

    // SIGTERM on the first RunInstances: the apply holds the lease and is mutating.
    let signalled = false;
    let leaseAtSignal: unknown;
    const off = world.aws.onCall((call) => {
      if (signalled || call.action !== 'RunInstances') return;
      signalled = true;
      leaseAtSignal = readLeases(world.db);
      child.kill('SIGTERM');
    });
    const { code, signal } = await exited;
    off();
    const output = `${stdout}\n${stderr}`;
    expect(signalled, output).toBe(true);
    expect(leaseAtSignal, output).toHaveLength(1);
    expect(signal, output).toBeNull();
    expect(code, output).toBe(0);
    expect(stderr).toContain('received SIGTERM: stopping; waiting up to 1 s for the apply job');
    expect(stderr).toMatch(/ apply interrupted at [0-9a-f]{12}: /);
    expect(stderr).toContain('stopped\n');
    // Nothing left running, nothing held: the lease is gone and the run says how it ended.
    expect(child.exitCode).toBe(0);
    expect(readLeases(world.db)).toEqual([]);
    expect(world.runs().filter((r) => r.command === 'apply')).toEqual([expect.objectContaining({ status: 'interrupted' })]);
    for (const s of world.envSecrets) expect(output).not.toContain(s);
  }, 180_000);
});

function readLeases(db: string): unknown[] {
  const conn = new Database(db, { readonly: true });
  try {
    return conn.prepare('SELECT environment, pid FROM leases').all();
  } finally {
    conn.close();
  }
}
