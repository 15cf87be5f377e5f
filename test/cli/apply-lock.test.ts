/**
 * One apply at a time per environment: two applies started together on one audit database
 * (two in-process runs, distinct holders) → exactly one runs, the other exits 3 naming the holder.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
    expect(w.runs().map((r) => `${r.status} ${r.exit_code}`).sort()).toEqual(['refused 3', 'succeeded 0']);
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
