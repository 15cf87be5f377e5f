/**
 * Throttling is a pace signal, never a failure: a throttled call is retried with exponential
 * backoff and jitter (honouring retry-after) until a generous deadline. Everything else passes
 * through unchanged on the first throw, so real errors keep their class and message.
 */
import { DeadlineExceeded, describeCause } from '../errors.js';
import { systemClock, type Clock } from './clock.js';

/**
 * AWS error codes that mean "slow down" (the SDK's own THROTTLING_ERROR_CODES, from
 * @smithy/service-error-classification, minus LimitExceededException: Secrets Manager and SSM use
 * that name for hard quotas, which waiting does not fix).
 */
export const AWS_THROTTLE_CODES: ReadonlySet<string> = new Set([
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ThrottledException',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'TransactionInProgressException',
]);

/** Cloudflare body code for "Please wait and consider throttling your request speed". */
const CLOUDFLARE_THROTTLE_CODE = 971;

interface ErrorShape {
  name?: unknown;
  Code?: unknown;
  code?: unknown;
  status?: unknown;
  $metadata?: { httpStatusCode?: unknown };
  $retryable?: { throttling?: unknown };
  errors?: unknown;
}

/** True for AWS throttling errors (by code, SDK flag or HTTP 429) and Cloudflare 429s. */
export function isThrottleError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as ErrorShape;
  if (e.$retryable?.throttling === true) return true;
  for (const code of [e.name, e.Code, e.code]) if (typeof code === 'string' && AWS_THROTTLE_CODES.has(code)) return true;
  if (e.status === 429 || e.$metadata?.httpStatusCode === 429) return true;
  return Array.isArray(e.errors) && e.errors.some((x) => (x as { code?: unknown } | null)?.code === CLOUDFLARE_THROTTLE_CODE);
}

/**
 * The server's requested delay in milliseconds, from `retry-after-ms` or `retry-after` (seconds
 * or an HTTP date), on a Cloudflare error (Web Headers) or an AWS error's raw response.
 */
export function retryAfterMs(error: unknown, nowMs: number): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const header = (name: string): string | undefined => {
    const h = (error as { headers?: unknown }).headers;
    if (h && typeof (h as Headers).get === 'function') return (h as Headers).get(name) ?? undefined;
    const raw = (error as { $response?: { headers?: Record<string, string | undefined> } }).$response?.headers;
    return raw?.[name] ?? undefined;
  };
  const ms = Number(header('retry-after-ms'));
  if (header('retry-after-ms') !== undefined && Number.isFinite(ms) && ms >= 0) return ms;
  const value = header('retry-after');
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (value.trim() !== '' && Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

export interface RetryInfo {
  /** 1 for the first retry. */
  attempt: number;
  delayMs: number;
  error: unknown;
}

export interface ThrottleRetryOptions {
  isThrottle?: (error: unknown) => boolean;
  /** Total time to keep retrying a throttled call; default 20 minutes (Cloudflare blocks for 5). */
  maxWaitMs?: number;
  baseDelayMs?: number;
  /** Cap on the computed backoff (a server's retry-after may be longer and is honoured). */
  maxDelayMs?: number;
  onRetry?: (info: RetryInfo) => void;
  clock?: Clock;
  /** [0, 1); injectable so tests get exact delays. */
  random?: () => number;
  /** For the error when the deadline passes, e.g. "RunInstances", "tenant acme". */
  operation?: string;
  resource?: string;
}

export const DEFAULT_THROTTLE_MAX_WAIT_MS = 20 * 60_000;

/**
 * Calls `fn`, retrying throttling errors. Non-throttle errors are rethrown as they are. When
 * throttling outlasts `maxWaitMs`, throws DeadlineExceeded with the last throttle as cause.
 */
export async function withThrottleRetry<T>(fn: () => Promise<T>, opts: ThrottleRetryOptions = {}): Promise<T> {
  const clock = opts.clock ?? systemClock;
  const random = opts.random ?? Math.random;
  const isThrottle = opts.isThrottle ?? isThrottleError;
  const base = opts.baseDelayMs ?? 500;
  const cap = opts.maxDelayMs ?? 30_000;
  const maxWait = opts.maxWaitMs ?? DEFAULT_THROTTLE_MAX_WAIT_MS;
  const deadline = clock.now() + maxWait;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!isThrottle(error)) throw error;
      const now = clock.now();
      // Equal jitter: at least half the exponential step, so a crowd of callers spreads out but never spins.
      const step = Math.min(cap, base * 2 ** (attempt - 1));
      const backoff = step / 2 + random() * (step / 2);
      const delayMs = Math.ceil(Math.max(backoff, retryAfterMs(error, now) ?? 0));
      if (now + delayMs > deadline) {
        throw new DeadlineExceeded(`still throttled after ${attempt} attempts over ${Math.round((now - (deadline - maxWait)) / 1000)} s: ${describeCause(error)}`, {
          operation: opts.operation ?? 'call cloud API',
          resource: opts.resource,
          cause: error,
        });
      }
      opts.onRetry?.({ attempt, delayMs, error });
      await clock.sleep(delayMs);
    }
  }
}
