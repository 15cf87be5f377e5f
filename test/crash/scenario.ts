/**
 * One crash scenario: kill the apply at a point, show the dead run's lease is still held, apply
 * again (which reclaims that lease at once: its holder was on this host and its pid is gone, so
 * the long TTL is not waited out), check the fleet from the outside, and check that history
 * records the killed run as abandoned by the one that took over.
 */
import { existsSync } from 'node:fs';
import { expect } from 'vitest';
import type { History } from '../../src/store/model.js';
import { DIST_MAIN, KILLED_RUN_LOCK_TTL_SECONDS, startCrashWorld, type CrashWorld, type KillPoint } from './crash-world.js';

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

    // The dead run still holds its lease, far from expiry.
    const lease = w.lease();
    expect(lease?.pid).toBe(killed.pid);
    expect(lease!.expiresAt).toBeGreaterThan(Date.now() + (KILLED_RUN_LOCK_TTL_SECONDS / 2) * 1000);

    // The next apply does not wait for it: the holder is known dead, so it reclaims and converges.
    const again = await w.tenantform(['apply', '--auto-approve']);
    expect(again.code, `${again.stdout}\n${again.stderr}`).toBe(0);
    expect(again.stderr).toMatch(
      new RegExp(`note: reclaimed the lease of run [0-9a-f-]{36} \\(pid ${killed.pid} on [^)]+\\): that process is gone; the run is recorded as abandoned`),
    );
    expect(await w.problems()).toEqual([]);
    const plan = await w.tenantform(['plan']);
    expect(plan.code, plan.stdout).toBe(0);

    // History: the killed run is abandoned, by the run that reclaimed its lease.
    const shown = await w.tenantform(['history', '--json', '--limit', '10000', '--db', w.world.db]);
    expect(shown.code, shown.stderr).toBe(0);
    const { runs, resources } = JSON.parse(shown.stdout) as History;
    // What the killed run made, the next one adopted: no resource is `created` by two runs.
    const creators = new Map<string, Set<string>>();
    for (const r of resources.filter((e) => e.state === 'created')) {
      const key = `${r.kind} ${r.resourceId}`;
      creators.set(key, (creators.get(key) ?? new Set()).add(r.runId));
    }
    expect([...creators].filter(([, by]) => by.size > 1).map(([key]) => key)).toEqual([]);
    const dead = runs.find((r) => r.pid === killed.pid);
    const next = runs.find((r) => r.pid === again.pid);
    expect(dead).toMatchObject({ status: 'abandoned', abandoned: { byRunId: next?.runId, reason: 'holderGone' } });
    expect(dead?.exitCode).toBeUndefined();
    expect(next).toMatchObject({ status: 'succeeded', exitCode: 0 });
    const text = await w.tenantform(['history', '--db', w.world.db]);
    expect(text.stdout).toContain(`run ${dead!.runId} abandoned at ${dead!.abandoned!.at}: its process (pid ${killed.pid} on `);
  } finally {
    await w.close();
  }
}
