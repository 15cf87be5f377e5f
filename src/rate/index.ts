export { systemClock, type Clock } from './clock.js';
export { TokenBucket, type RateLimiter } from './token-bucket.js';
export { SlidingWindowLimiter } from './sliding-window.js';
export { RateBudgets, PUBLISHED_BUDGETS, ec2Category, type AwsService, type Ec2Category } from './budgets.js';
export {
  withThrottleRetry,
  isThrottleError,
  retryAfterMs,
  AWS_THROTTLE_CODES,
  DEFAULT_THROTTLE_MAX_WAIT_MS,
  type ThrottleRetryOptions,
  type RetryInfo,
} from './throttle.js';
export { createRateGate, type RateGate, type RateGateOptions } from './gate.js';
export { concurrencyLimit, mapSettled, type ConcurrencyLimit } from './concurrency.js';
