/**
 * The environment lease on PostgreSQL. The lock is a session-level advisory lock
 * (`pg_try_advisory_lock(hashtextextended('tenantform:<env>', 0))`) held on a connection of its
 * own, outside the pool: the server frees it the moment that session ends, so a holder that dies
 * (SIGKILL, a crash, a lost machine) frees it without waiting for a time-to-live. The `leases`
 * row (run, pid, host, started, heartbeat) says who holds it, for messages and the web view; the
 * heartbeat is written over the lock's own connection, so a renewal that fails because that
 * connection is gone reports the lease lost. A row whose lock is free is a dead holder's: the next
 * holder takes it over and records that run as abandoned (`holderGone`). A live holder that
 * stopped renewing keeps the lock (the server cannot know it hung), unlike SQLite's expiry.
 */
import type pg from 'pg';
import type { AcquireResult, Lease, LeaseHolder } from '../model.js';
import { query, text, wrapPgError, type PgContext, type Queryable } from './context.js';
import { sameHolder, toLease, type LeaseRow } from './rows.js';

/** One held lock: its connection, and whether that connection has failed (the lock is then gone). */
export interface HeldLock {
  client: pg.Client;
  holder: LeaseHolder;
  lost: boolean;
}

/** Held locks of one store, by (redacted) environment. */
export type HeldLocks = Map<string, HeldLock>;

export const PG_LEASE_HINT = 'the database frees it as soon as that process ends';

function lockKey(environment: string): string {
  return `tenantform:${environment}`;
}

function redactedHolder(ctx: PgContext, h: LeaseHolder): LeaseHolder {
  return { host: text(ctx, h.host), pid: h.pid, runId: text(ctx, h.runId), startedAt: text(ctx, h.startedAt) };
}

async function leaseRow(ctx: PgContext, on: Queryable, environment: string): Promise<LeaseRow | undefined> {
  const res = await query<LeaseRow>(ctx, on, 'read lease', `environment ${environment}`, `SELECT * FROM leases WHERE environment = $1`, [environment]);
  return res.rows[0];
}

async function writeRow(ctx: PgContext, on: Queryable, environment: string, h: LeaseHolder, acquiredAt: number, ttlMs: number): Promise<LeaseRow> {
  const now = ctx.now();
  const res = await query<LeaseRow>(
    ctx,
    on,
    'acquire lease',
    `environment ${environment}`,
    `INSERT INTO leases (environment, host, pid, run_id, started_at, acquired_at, renewed_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (environment) DO UPDATE SET host = EXCLUDED.host, pid = EXCLUDED.pid, run_id = EXCLUDED.run_id, started_at = EXCLUDED.started_at,
       acquired_at = EXCLUDED.acquired_at, renewed_at = EXCLUDED.renewed_at, expires_at = EXCLUDED.expires_at
     RETURNING *`,
    [environment, h.host, h.pid, h.runId, h.startedAt, acquiredAt, now, now + ttlMs],
  );
  return res.rows[0]!;
}

/** The holder that has the lock writes its row right after taking it: wait that moment out. */
async function holderOfTakenLock(ctx: PgContext, environment: string): Promise<Lease> {
  for (let i = 0; i < 40; i++) {
    const row = await leaseRow(ctx, ctx.pool, environment);
    if (row) return toLease(row);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { environment, holder: { host: 'unknown', pid: 0, runId: 'unknown', startedAt: 'unknown' }, acquiredAt: 0, renewedAt: 0, expiresAt: 0 };
}

export async function acquireLease(ctx: PgContext, held: HeldLocks, env: string, holder: LeaseHolder, ttlMs: number): Promise<AcquireResult> {
  const environment = text(ctx, env);
  const h = redactedHolder(ctx, holder);
  const mine = held.get(environment);
  if (mine && !mine.lost && sameHolder(mine.holder, h)) {
    const row = await writeRow(ctx, mine.client, environment, h, Number((await leaseRow(ctx, mine.client, environment))?.acquired_at ?? ctx.now()), ttlMs);
    return { acquired: true, lease: toLease(row), reclaimed: undefined };
  }
  if (mine?.lost) held.delete(environment);

  const client = await ctx.connect().catch((cause: unknown) => {
    throw wrapPgError(ctx, 'acquire lease', `environment ${environment}`, cause);
  });
  const lock: HeldLock = { client, holder: h, lost: false };
  client.on('error', () => (lock.lost = true));
  client.on('end', () => (lock.lost = true));
  try {
    const got = await query<{ ok: boolean }>(ctx, client, 'acquire lease', `environment ${environment}`, `SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok`, [
      lockKey(environment),
    ]);
    if (!got.rows[0]?.ok) {
      await client.end().catch(() => undefined);
      return { acquired: false, current: await holderOfTakenLock(ctx, environment), reclaimHint: PG_LEASE_HINT };
    }
    await query(ctx, client, 'acquire lease', `environment ${environment}`, 'BEGIN');
    const previous = await leaseRow(ctx, client, environment);
    let reclaimed: (Lease & { reason: 'holderGone' }) | undefined;
    if (previous && !sameHolder(toLease(previous).holder, h)) {
      // The lock was free, so the row's holder's session is gone: its run can no longer finish.
      // A run that did record its end (then died before releasing) keeps what it recorded.
      await query(
        ctx,
        client,
        'acquire lease',
        `environment ${environment}`,
        `UPDATE runs SET status = 'abandoned', abandoned_at = $1, abandoned_by = $2, abandoned_reason = 'holderGone' WHERE run_id = $3 AND status = 'running'`,
        [new Date(ctx.now()).toISOString(), h.runId, previous.run_id],
      );
      reclaimed = { ...toLease(previous), reason: 'holderGone' };
    }
    const row = await writeRow(ctx, client, environment, h, ctx.now(), ttlMs);
    await query(ctx, client, 'acquire lease', `environment ${environment}`, 'COMMIT');
    held.set(environment, lock);
    return { acquired: true, lease: toLease(row), reclaimed };
  } catch (error) {
    // Ending the session rolls back and frees the lock.
    await client.end().catch(() => undefined);
    throw error;
  }
}

export async function renewLease(ctx: PgContext, held: HeldLocks, env: string, holder: LeaseHolder, ttlMs: number): Promise<boolean> {
  const environment = text(ctx, env);
  const lock = held.get(environment);
  if (!lock || !sameHolder(lock.holder, redactedHolder(ctx, holder))) return false;
  if (lock.lost) return false;
  const now = ctx.now();
  try {
    const res = await lock.client.query(`UPDATE leases SET renewed_at = $1, expires_at = $2 WHERE environment = $3 AND host = $4 AND pid = $5 AND run_id = $6`, [
      now,
      now + ttlMs,
      environment,
      lock.holder.host,
      lock.holder.pid,
      lock.holder.runId,
    ]);
    return res.rowCount === 1;
  } catch (cause) {
    // The lock's session is gone: so is the lock, whoever holds it now.
    if (lock.lost) return false;
    throw wrapPgError(ctx, 'renew lease', `environment ${environment}`, cause);
  }
}

export async function releaseLease(ctx: PgContext, held: HeldLocks, env: string, holder: LeaseHolder): Promise<boolean> {
  const environment = text(ctx, env);
  const lock = held.get(environment);
  if (!lock || !sameHolder(lock.holder, redactedHolder(ctx, holder))) return false;
  held.delete(environment);
  const h = lock.holder;
  try {
    // Over the pool when the lock's session is gone: the row must not outlive the run for long.
    const on = lock.lost ? ctx.pool : lock.client;
    const res = await query(
      ctx,
      on,
      'release lease',
      `environment ${environment}`,
      `DELETE FROM leases WHERE environment = $1 AND host = $2 AND pid = $3 AND run_id = $4`,
      [environment, h.host, h.pid, h.runId],
    );
    return res.rowCount === 1 && !lock.lost;
  } finally {
    // Ending the session frees the advisory lock; no explicit unlock is needed.
    await lock.client.end().catch(() => undefined);
  }
}

/**
 * The lease row, when its advisory lock is held by some session; a row whose lock is free is a
 * dead holder's, and there is no current lease.
 */
export async function currentLease(ctx: PgContext, env: string): Promise<Lease | undefined> {
  const environment = text(ctx, env);
  const res = await query<LeaseRow>(
    ctx,
    ctx.pool,
    'read lease',
    `environment ${environment}`,
    `SELECT l.* FROM leases l
     WHERE l.environment = $1 AND EXISTS (
       SELECT 1 FROM pg_locks k
       WHERE k.locktype = 'advisory' AND k.granted AND k.objsubid = 1 AND k.database = (SELECT oid FROM pg_database WHERE datname = current_database())
         AND ((k.classid::bigint << 32) | k.objid::bigint) = hashtextextended($2, 0))`,
    [environment, lockKey(environment)],
  );
  return res.rows[0] ? toLease(res.rows[0]) : undefined;
}

/** Closing the store ends every lock's session (the locks are freed; their rows stay, as a crash leaves them). */
export async function endHeldLocks(held: HeldLocks): Promise<void> {
  const locks = [...held.values()];
  held.clear();
  await Promise.all(locks.map((l) => l.client.end().catch(() => undefined)));
}
