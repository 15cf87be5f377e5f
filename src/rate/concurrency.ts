/**
 * Bounded concurrency (p-limit): how many tenants are worked on at once. Rate budgets bound how
 * fast calls go out; this bounds how many are in flight, which keeps memory and open sockets flat.
 */
import pLimit from 'p-limit';
import { InternalError } from '../errors.js';

export type ConcurrencyLimit = <T>(fn: () => Promise<T>) => Promise<T>;

export function concurrencyLimit(concurrency: number): ConcurrencyLimit {
  if (!(Number.isInteger(concurrency) && concurrency >= 1))
    throw new InternalError(`must be a positive integer (got ${concurrency})`, { operation: 'limit concurrency', resource: 'concurrency' });
  const limit = pLimit(concurrency);
  return (fn) => limit(fn);
}

/**
 * Maps every item with at most `concurrency` in flight. Every item settles: results come back in
 * input order, so one tenant's failure never stops the others.
 */
export function mapSettled<I, O>(items: readonly I[], concurrency: number, fn: (item: I, index: number) => Promise<O>): Promise<PromiseSettledResult<O>[]> {
  const limit = concurrencyLimit(concurrency);
  return Promise.allSettled(items.map((item, i) => limit(() => fn(item, i))));
}
