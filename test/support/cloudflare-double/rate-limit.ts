/**
 * Cloudflare's global API limit (1,200 requests per 5 minutes): a fixed window in which every
 * request counts, rejected ones included. Going over blocks every call until the window rolls.
 */

export interface RateLimitSettings {
  requests: number;
  windowSeconds: number;
  /** Value sent in `retry-after`; defaults to the seconds left in the window, rounded up. */
  retryAfterSeconds?: number;
}

export const DEFAULT_RATE_LIMIT: RateLimitSettings = { requests: 1200, windowSeconds: 300 };

export type RateDecision = { allowed: true; headers: Record<string, string> } | { allowed: false; retryAfterSeconds: number; headers: Record<string, string> };

export class FixedWindowLimiter {
  private windowStart = 0;
  private count = 0;

  constructor(
    private settings: RateLimitSettings,
    private readonly now: () => number = Date.now,
  ) {}

  configure(settings: RateLimitSettings): void {
    this.settings = settings;
    this.reset();
  }

  reset(): void {
    this.windowStart = 0;
    this.count = 0;
  }

  hit(): RateDecision {
    const now = this.now();
    const windowMs = this.settings.windowSeconds * 1000;
    if (now - this.windowStart >= windowMs) {
      this.windowStart = now;
      this.count = 0;
    }
    this.count += 1;
    const secondsLeft = Math.max(1, Math.ceil((this.windowStart + windowMs - now) / 1000));
    const remaining = Math.max(0, this.settings.requests - this.count);
    const headers = {
      ratelimit: `"default";r=${remaining};t=${secondsLeft}`,
      'ratelimit-policy': `"default";q=${this.settings.requests};w=${this.settings.windowSeconds}`,
    };
    if (this.count <= this.settings.requests) return { allowed: true, headers };
    return { allowed: false, retryAfterSeconds: this.settings.retryAfterSeconds ?? secondsLeft, headers };
  }
}
