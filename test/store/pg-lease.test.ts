/**
 * The environment lease on PostgreSQL across processes that claim to be on different machines:
 * exactly one holds it, the other is refused (exit 3) naming the holder; SIGKILL of the holder
 * frees it (the server ends the dead process's session and with it the advisory lock), so the
 * next run takes it at once and records the killed run as abandoned. A real server: the
 * throwaway cluster of test/support/postgres.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openAuditStore } from '../../src/store/open.js';
import { freshPostgresUrl, postgresServer } from '../support/postgres.js';

const CHILD = fileURLToPath(new URL('./pg-lease-child.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const children: ChildProcess[] = [];

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function child(...args: string[]): { proc: ChildProcess; lines: AsyncIterator<string>; out: string[] } {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(proc);
  const out: string[] = [];
  const lines = createInterface({ input: proc.stdout! })[Symbol.asyncIterator]();
  return { proc, out, lines };
}

async function next(c: { lines: AsyncIterator<string> }): Promise<Record<string, unknown>> {
  const { value, done } = await c.lines.next();
  if (done) throw new Error('child ended without a line');
  return JSON.parse(value as string) as Record<string, unknown>;
}

function exited(proc: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve({ code: proc.exitCode, signal: proc.signalCode });
  return new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
}

describe('PostgreSQL lease across processes', () => {
  beforeAll(async () => {
    await postgresServer();
  });

  it('one holder at a time; SIGKILL of the holder frees the lease for the next run', { timeout: 120_000 }, async () => {
    const url = await freshPostgresUrl('lease');
    const a = child('hold', url, 'dev', 'run-a', 'machine-a');
    expect(await next(a)).toEqual({ holding: true });

    const b = child('try', url, 'dev', 'run-b', 'machine-b');
    const refused = await next(b);
    expect(await exited(b.proc)).toEqual({ code: 3, signal: null });
    expect(String(refused.refused)).toMatch(
      new RegExp(
        `^lock environment dev: held by run run-a \\(pid ${a.proc.pid} on machine-a, started .+; lease expires .+\\); the database frees it as soon as that process ends$`,
      ),
    );

    a.proc.kill('SIGKILL');
    expect(await exited(a.proc)).toEqual({ code: null, signal: 'SIGKILL' });

    // The server notices the closed connection as the kernel closes the socket; the next run takes over.
    const c = child('try', url, 'dev', 'run-c', 'machine-c');
    expect(await next(c)).toEqual({ reclaimed: 'run-a', reason: 'holderGone' });
    expect(await next(c)).toEqual({ ran: true });
    expect(await exited(c.proc)).toEqual({ code: 0, signal: null });

    const observer = await openAuditStore(url);
    try {
      const runs = Object.fromEntries((await observer.history()).runs.map((r) => [r.runId, r]));
      expect(runs['run-a']).toMatchObject({ status: 'abandoned', abandoned: { byRunId: 'run-c', reason: 'holderGone' } });
      expect(runs['run-b']).toMatchObject({ status: 'refused', exitCode: 3 });
      expect(runs['run-c']).toMatchObject({ status: 'succeeded', exitCode: 0 });
      expect(await observer.currentLease('dev')).toBeUndefined();
    } finally {
      await observer.close();
    }
  });

  it('a lease row left by a killed holder is not shown as a current lease', { timeout: 60_000 }, async () => {
    const url = await freshPostgresUrl('lease');
    const a = child('hold', url, 'dev', 'run-a', 'machine-a');
    expect(await next(a)).toEqual({ holding: true });
    const observer = await openAuditStore(url);
    try {
      expect((await observer.currentLease('dev'))?.holder).toMatchObject({ runId: 'run-a', host: 'machine-a', pid: a.proc.pid });
      a.proc.kill('SIGKILL');
      await exited(a.proc);
      // The backend may take a moment to see the socket close: wait for the lock to go, however long.
      while ((await observer.currentLease('dev')) !== undefined) await new Promise((r) => setTimeout(r, 20));
      expect(await observer.currentLease('dev')).toBeUndefined();
    } finally {
      await observer.close();
    }
  });
});
