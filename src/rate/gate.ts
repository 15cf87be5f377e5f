/**
 * The paced path for every cloud call: each attempt first takes a token from the API's budget,
 * and throttling answers are retried (taking a new token each time) instead of failing the run.
 * The shape matches the apply executor's CallGate.
 */
import type { AwsService, RateBudgets } from './budgets.js';
import { withThrottleRetry, type ThrottleRetryOptions } from './throttle.js';

export interface RateGateOptions {
  budgets: RateBudgets;
  /** The AWS account id or profile name the clients use (budgets are per account). */
  awsAccount: string;
  region: string;
  cloudflareAccountId: string;
  retry?: Omit<ThrottleRetryOptions, 'operation' | 'resource'>;
}

export interface RateGate {
  aws<T>(service: AwsService, action: string, fn: () => Promise<T>): Promise<T>;
  cloudflare<T>(op: string, fn: () => Promise<T>): Promise<T>;
}

export function createRateGate(opts: RateGateOptions): RateGate {
  return {
    aws(service, action, fn) {
      const limiter = opts.budgets.forAws(opts.awsAccount, opts.region, service, action);
      return withThrottleRetry(
        async () => {
          await limiter.take();
          return fn();
        },
        { ...opts.retry, operation: `${service} ${action}` },
      );
    },
    cloudflare(op, fn) {
      const limiter = opts.budgets.forCloudflare(opts.cloudflareAccountId);
      return withThrottleRetry(
        async () => {
          await limiter.take();
          return fn();
        },
        { ...opts.retry, operation: `cloudflare ${op}` },
      );
    },
  };
}
