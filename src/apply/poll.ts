/**
 * Waiting between polls: a capped exponential backoff. Transitions that settle fast (most of
 * them) are seen after a quarter of a second; slow ones are polled at most every `maxMs`, so a
 * long shutdown does not hammer DescribeInstances or GetCommandInvocation.
 */
import type { Clock } from '../rate/index.js';

export const FIRST_POLL_DELAY_MS = 250;

/** Sleeps ~250 ms, then twice as long each time, never longer than `maxMs`. */
export function pollBackoff(clock: Clock, maxMs: number): () => Promise<void> {
  let next = Math.min(FIRST_POLL_DELAY_MS, maxMs);
  return async () => {
    const delay = next;
    next = Math.min(next * 2, maxMs);
    await clock.sleep(delay);
  };
}
