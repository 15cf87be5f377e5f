/**
 * What every PostgreSQL store function is handed: the pool for ordinary statements, a way to
 * open the dedicated connection a lease is held on, the redactor every written value passes
 * through, the clock, and where the store is (password removed) for messages. Each table's
 * functions live in their own module (runs.ts, events.ts, leases.ts) and take this first, so a new
 * table is a new module plus one delegating line per method in store.ts.
 */
import type pg from 'pg';
import { TenantformError } from '../../errors.js';
import type { Redactor } from '../../redact.js';

export interface PgContext {
  readonly pool: pg.Pool;
  /** A new connection outside the pool (a session-level advisory lock lives as long as it). */
  connect(): Promise<pg.Client>;
  readonly redactor: Redactor;
  /** Epoch milliseconds. */
  readonly now: () => number;
  /** The URL with its password replaced. */
  readonly location: string;
}

/** Any client or the pool: each function can run on the pool or on a lease's own connection. */
export type Queryable = Pick<pg.Pool | pg.Client | pg.PoolClient, 'query'>;

/**
 * A server or network failure as one line: the server's message and SQLSTATE, or the socket
 * error's code. pg's errors carry no connection string, and the text is redacted regardless.
 */
export function describePgError(cause: unknown): string {
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === 'string' && code !== '' && !cause.message.includes(code) ? `${cause.message} (${code})` : cause.message;
  }
  return String(cause);
}

/** Runs a statement; a failure becomes a TenantformError naming the operation and the database. */
export async function query<R extends pg.QueryResultRow>(
  ctx: PgContext,
  on: Queryable,
  operation: string,
  resource: string,
  sql: string,
  params: unknown[] = [],
): Promise<pg.QueryResult<R>> {
  try {
    return await on.query<R>(sql, params);
  } catch (cause) {
    throw wrapPgError(ctx, operation, resource, cause);
  }
}

/**
 * Runs `fn` in one transaction on a pooled connection: COMMIT when it resolves, ROLLBACK when it
 * throws (the rollback's own failure is dropped so the first error is the one reported).
 */
export async function inTransaction<T>(ctx: PgContext, operation: string, resource: string, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await ctx.pool.connect().catch((cause: unknown) => {
    throw wrapPgError(ctx, operation, resource, cause);
  });
  try {
    await query(ctx, client, operation, resource, 'BEGIN');
    const result = await fn(client);
    await query(ctx, client, operation, resource, 'COMMIT');
    return result;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}

export function wrapPgError(ctx: PgContext, operation: string, resource: string, cause: unknown): TenantformError {
  if (cause instanceof TenantformError) return cause;
  return new TenantformError(text(ctx, describePgError(cause)), { operation, resource: `${text(ctx, resource)} in audit database ${ctx.location}`, cause });
}

export function text(ctx: PgContext, s: string): string {
  return ctx.redactor.redact(s);
}

export function optText(ctx: PgContext, s: string | undefined): string | null {
  return s === undefined ? null : text(ctx, s);
}

export function json(ctx: PgContext, value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(ctx.redactor.redactDeep(value));
}

export function isoNow(ctx: PgContext): string {
  return new Date(ctx.now()).toISOString();
}
