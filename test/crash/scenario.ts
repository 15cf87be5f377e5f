/**
 * One crash scenario: kill the apply at a point, show the dead run's lease is held and then
 * reclaimable, apply again, and check the fleet from the outside.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { existsSync } from 'node:fs';
import { expect } from 'vitest';
import { DIST_MAIN, startCrashWorld, type CrashWorld, type KillPoint } from './crash-world.js';

export function killPointName(p: KillPoint): string {
  return `killed ${p.when === 'before' ? 'just before' : 'right after'} ${p.label} #${p.nth}`;
}

export async function crashAndConverge(point: KillPoint, prepare?: (w: CrashWorld) => Promise<void>): Promise<void> {
  expect(existsSync(DIST_MAIN), 'dist/ is missing or old: run `npm run build` (npm test does it first)').toBe(true);
  const w = await startCrashWorld();
  try {
    await prepare?.(w);
    const killed = await w.applyKilledAt(point);
    const output = `${killed.stdout}\n${killed.stderr}`;
    expect(killed.killedAt, `the kill point was never reached; the run exited ${killed.code}:\n${output}`).toBeDefined();
    expect(killed.signal).toBe('SIGKILL');

    // The dead run still holds the lease: an apply started at once is refused, naming it. (In
    // process, so the refusal does not depend on how fast a child starts on a loaded machine.)
    const lease = w.lease();
    expect(lease?.pid).toBe(killed.pid);
    const refused = await w.world.run(['apply', '--auto-approve']);
    expect(refused.code, refused.stderr).toBe(3);
    expect(refused.stderr).toContain(`(pid ${killed.pid} on `);

    // Once its TTL has run out, the lease is reclaimed and the fleet converges.
    await sleep(Math.max(0, lease!.expiresAt - Date.now()) + 100);
    const again = await w.tenantform(['apply', '--auto-approve']);
    expect(again.code, `${again.stdout}\n${again.stderr}`).toBe(0);
    expect(await w.problems()).toEqual([]);
    const plan = await w.tenantform(['plan']);
    expect(plan.code, plan.stdout).toBe(0);
  } finally {
    await w.close();
  }
}
