import { describe, expect, it } from 'vitest';
import { pollBackoff } from '../../src/apply/poll.js';
import type { Clock } from '../../src/rate/index.js';

function recordingClock(): Clock & { sleeps: number[] } {
  const sleeps: number[] = [];
  return { sleeps, now: () => 0, sleep: async (ms) => void sleeps.push(ms) };
}

describe('pollBackoff', () => {
  it('starts at 250 ms and doubles up to the cap', async () => {
    const clock = recordingClock();
    const pause = pollBackoff(clock, 5_000);
    for (let i = 0; i < 8; i++) await pause();
    expect(clock.sleeps).toEqual([250, 500, 1_000, 2_000, 4_000, 5_000, 5_000, 5_000]);
  });

  it('never waits longer than a cap below the first delay', async () => {
    const clock = recordingClock();
    const pause = pollBackoff(clock, 100);
    await pause();
    await pause();
    expect(clock.sleeps).toEqual([100, 100]);
  });
});
