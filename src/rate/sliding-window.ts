/**
 * At most `limit` requests in any `windowMs` interval (Cloudflare: 1,200 per 300 s per token).
 * A sliding window rather than fixed buckets: going over Cloudflare's limit blocks every call for
 * five minutes, so no burst at a window boundary may exceed it. Like TokenBucket, a grant time is
 * fixed when the caller asks, which serves callers in arrival order.
 */
import { systemClock, type Clock } from './clock.js';
import type { RateLimiter } from './token-bucket.js';
import { InternalError } from '../errors.js';

export class SlidingWindowLimiter implements RateLimiter {
  /** The last `limit` grant times, oldest at `head` (a ring). */
  private readonly grants: number[] = [];
  private head = 0;

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    private readonly clock: Clock = systemClock,
  ) {
    if (!(limit >= 1) || !(windowMs > 0))
      throw new InternalError(`needs limit >= 1 and window > 0 (got ${limit}, ${windowMs} ms)`, { operation: 'create rate limiter', resource: 'sliding window' });
  }

  /** Reserves one request and returns how many milliseconds the caller must wait before sending it. */
  reserve(): number {
    const now = this.clock.now();
    let at = now;
    if (this.grants.length < this.limit) {
      this.grants.push(at);
    } else {
      // The request `limit` grants ago must have left the window.
      at = Math.max(now, this.grants[this.head]! + this.windowMs);
      this.grants[this.head] = at;
      this.head = (this.head + 1) % this.limit;
    }
    return at - now;
  }

  async take(n = 1): Promise<void> {
    let wait = 0;
    for (let i = 0; i < n; i++) wait = this.reserve();
    if (wait > 0) await this.clock.sleep(wait);
  }
}
