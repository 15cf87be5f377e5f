/**
 * The moto harness's process hygiene: servers started side by side each get a port of their own,
 * stop() ends a server, and a server never outlives the process that started it, however that
 * process dies (a SIGKILLed test worker or script runs no exit handler).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startMotoServer } from '../support/moto.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Running, not a zombie waiting for a parent that may never reap it. */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Whether `pid` is gone before a generous deadline (moto's own SIGTERM path takes about 1 s). */
async function ends(pid: number): Promise<boolean> {
  for (let i = 0; i < 200 && alive(pid); i++) await sleep(50);
  return !alive(pid);
}

describe('moto harness', () => {
  it('starts servers side by side on ports of their own, each answering, and stop() ends them', async () => {
    const servers = await Promise.all([startMotoServer(), startMotoServer()]);
    try {
      expect(new Set(servers.map((s) => s.url)).size).toBe(2);
      for (const s of servers) {
        expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
        expect((await fetch(`${s.url}/moto-api/`)).ok).toBe(true);
      }
    } finally {
      for (const s of servers) s.stop();
    }
    for (const s of servers) expect(await ends(s.pid), `moto ${s.pid} still runs after stop()`).toBe(true);
  });

  it('dies with a parent that is SIGKILLed', async () => {
    const script =
      "import { startMotoServer } from './test/support/moto.ts';" +
      'const moto = await startMotoServer(); process.stdout.write(`${moto.pid}\\n`); setInterval(() => {}, 1000);';
    const parent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    parent.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const pid = await new Promise<number>((resolve, reject) => {
      parent.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (stdout.includes('\n')) resolve(Number(stdout.trim()));
      });
      parent.once('close', (code) => reject(new Error(`the parent exited ${code} before starting moto: ${stderr}`)));
    });
    expect(alive(pid)).toBe(true);
    const gone = new Promise((resolve) => parent.once('close', resolve));
    parent.kill('SIGKILL');
    await gone;
    expect(await ends(pid), `moto ${pid} outlived its SIGKILLed parent`).toBe(true);
  });
});
