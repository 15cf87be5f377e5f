/**
 * The PostgreSQL audit store: the store shared by CI runners and the daemon. Each method is one
 * line delegating to the module of its table (runs.ts, events.ts, leases.ts); adding a table
 * means adding its migration (src/store/migrations.ts), a module of functions taking the
 * PgContext, and one delegating line per method here.
 */
import type pg from 'pg';
import type {
  AcquireResult,
  AuditStore,
  FinishRunInput,
  History,
  HistoryQuery,
  Lease,
  LeaseHolder,
  ResourceEventInput,
  ResourceRecord,
  RunRecord,
  StartRunInput,
} from '../model.js';
import type { DeepCheckMark } from '../deep-checks.js';
import type { PgContext } from './context.js';
import * as deepChecks from './deep-checks.js';
import * as events from './events.js';
import * as firstSeen from './first-seen.js';
import * as leases from './leases.js';
import * as runs from './runs.js';

export class PostgresAuditStore implements AuditStore {
  readonly kind = 'postgres';
  readonly location: string;
  private readonly held: leases.HeldLocks = new Map();
  private closed = false;

  constructor(
    private readonly ctx: PgContext,
    private readonly pool: pg.Pool,
  ) {
    this.location = ctx.location;
  }

  startRun = (input: StartRunInput): Promise<RunRecord> => runs.startRun(this.ctx, input);
  finishRun = (input: FinishRunInput): Promise<RunRecord> => runs.finishRun(this.ctx, input);
  recordResource = (input: ResourceEventInput): Promise<ResourceRecord> => events.recordResource(this.ctx, input);
  history = (query?: HistoryQuery): Promise<History> => events.history(this.ctx, query);
  claims = (environment: string): Promise<ResourceRecord[]> => events.claims(this.ctx, environment);
  recordSightings = (environment: string, keys: readonly string[], at: string, opts: { prune?: boolean } = {}): Promise<Map<string, string>> =>
    firstSeen.recordSightings(this.ctx, environment, keys, at, opts.prune ?? false);
  deepCheckMarks = (environment: string): Promise<DeepCheckMark[]> => deepChecks.deepCheckMarks(this.ctx, environment);
  recordDeepChecks = (environment: string, checked: ReadonlyArray<{ orgId: string; slug: string }>, at: string): Promise<void> =>
    deepChecks.recordDeepChecks(this.ctx, environment, checked, at);
  acquireLease = (environment: string, holder: LeaseHolder, ttlMs: number): Promise<AcquireResult> =>
    leases.acquireLease(this.ctx, this.held, environment, holder, ttlMs);
  renewLease = (environment: string, holder: LeaseHolder, ttlMs: number): Promise<boolean> => leases.renewLease(this.ctx, this.held, environment, holder, ttlMs);
  releaseLease = (environment: string, holder: LeaseHolder): Promise<boolean> => leases.releaseLease(this.ctx, this.held, environment, holder);
  currentLease = (environment: string): Promise<Lease | undefined> => leases.currentLease(this.ctx, environment);

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await leases.endHeldLocks(this.held);
    await this.pool.end();
  }
}
