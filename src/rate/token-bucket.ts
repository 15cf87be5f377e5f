/**
 * AWS-style token bucket: `capacity` tokens (the burst), refilled continuously at
 * `refillPerSecond`. Callers reserve tokens up front and the bucket may go into debt, so each
 * caller's wait is fixed at the moment it asks: callers are served strictly in arrival order
 * and no timer or queue has to be managed.
 */
import { systemClock, type Clock } from './clock.js';
import { InternalError } from '../errors.js';

export interface RateLimiter {
  /** Resolves when the caller may make `n` requests. */
  take(n?: number): Promise<void>;
}

export class TokenBucket implements RateLimiter {
  private tokens: number;
  private last: number;

  constructor(
    readonly capacity: number,
    readonly refillPerSecond: number,
    private readonly clock: Clock = systemClock,
  ) {
    if (!(capacity >= 1) || !(refillPerSecond > 0)) {
      throw new InternalError(`needs capacity >= 1 and refill > 0 (got ${capacity}, ${refillPerSecond}/s)`, {
        operation: 'create rate limiter',
        resource: 'token bucket',
      });
    }
    this.tokens = capacity;
    this.last = clock.now();
  }

  /** Reserves `n` tokens and returns how many milliseconds the caller must wait before using them. */
  reserve(n = 1): number {
    if (n > this.capacity)
      throw new InternalError(`cannot take ${n} tokens from a bucket of ${this.capacity}`, { operation: 'reserve tokens', resource: 'token bucket' });
    const now = this.clock.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) * this.refillPerSecond) / 1000);
    this.last = now;
    this.tokens -= n;
    if (this.tokens >= 0) return 0;
    // The epsilon keeps float noise (994.9999…/995.0000…1) from adding a millisecond.
    return Math.ceil((-this.tokens / this.refillPerSecond) * 1000 - 1e-6);
  }

  async take(n = 1): Promise<void> {
    const wait = this.reserve(n);
    if (wait > 0) await this.clock.sleep(wait);
  }
}
