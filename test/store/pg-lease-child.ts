/**
 * A lease holder in a process of its own, on the PostgreSQL store (test/store/pg-lease.test.ts):
 *   hold <url> <env> <runId> <host>   start a run and hold the lease via withLease until killed
 *   try  <url> <env> <runId> <host>   start a run, take the lease via withLease, print what happened, exit
 *                                     0 (ran) or 3 (refused, the message naming the holder)
 * <host> stands for the machine: the two holders claim different hosts, so nothing but the
 * database can tell one is dead.
 */
import { withLease } from '../../src/store/lease.js';
import { openAuditStore } from '../../src/store/open.js';
import { TenantformError } from '../../src/errors.js';

const [mode, url, env, runId, host] = process.argv.slice(2) as [string, string, string, string, string];
const holder = { host, pid: process.pid, runId, startedAt: new Date().toISOString() };
const store = await openAuditStore(url);
const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);
await store.startRun({ runId, command: 'apply', environment: env, host, pid: process.pid });

if (mode === 'hold') {
  await withLease(
    store,
    env,
    holder,
    () => {
      print({ holding: true });
      setInterval(() => undefined, 1000);
      return new Promise<never>(() => undefined);
    },
    { ttlMs: 60_000 },
  );
} else {
  try {
    await withLease(store, env, holder, async () => print({ ran: true }), {
      ttlMs: 60_000,
      onReclaimed: (prev, reason) => print({ reclaimed: prev.holder.runId, reason }),
    });
    await store.finishRun({ runId, status: 'succeeded', exitCode: 0 });
    await store.close();
    process.exit(0);
  } catch (e) {
    print({ refused: e instanceof Error ? e.message : String(e) });
    await store.finishRun({ runId, status: 'refused', exitCode: 3 });
    await store.close();
    process.exit(e instanceof TenantformError ? e.exitCode : 1);
  }
}
