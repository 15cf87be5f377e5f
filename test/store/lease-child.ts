/**
 * A separate process using the lease, driven by test/store/lease.test.ts over stdin/stdout.
 *   race <db> <env> <runId>      open, print "ready", wait for "go <epoch ms>", at that instant try <env>-0…49, print those won
 *   hold <db> <env> <runId>      hold the lease via withLease until killed (SIGINT/SIGTERM abort it
 *                                as the CLI's do, through src/cli/signals.ts)
 *   crash <db> <env> <runId>     acquire, print the result, then exit without releasing
 *   run <db> <env> <runId> <here|other> <ttlMs>
 *                                start a run as apply does, hold the lease via withLease (as this
 *                                host, or as another one) until killed
 */
import { hostname } from 'node:os';
import { createInterface } from 'node:readline';
import { abortOnSignals } from '../../src/cli/signals.js';
import { withLease } from '../../src/store/lease.js';
import { openSqliteStore } from '../../src/store/sqlite.js';

const [mode, db, env, runId] = process.argv.slice(2) as [string, string, string, string];
const holder = { host: 'child-host', pid: process.pid, runId, startedAt: new Date().toISOString() };
const store = openSqliteStore(db);
const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);

if (mode === 'race') {
  print({ ready: true });
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    const [word, at] = line.trim().split(' ');
    if (word !== 'go') continue;
    // Start at the same instant as the other racers (a busy wait: a timer would add jitter).
    while (Date.now() < Number(at));
    // Many environments in a row, so the racers overlap on many acquisitions, not just the first.
    const won: string[] = [];
    for (let i = 0; i < 50; i++) {
      const result = await store.acquireLease(`${env}-${i}`, holder, 60_000);
      if (result.acquired) won.push(`${env}-${i}`);
    }
    print({ runId, won });
    break;
  }
  lines.close();
  await store.close();
} else if (mode === 'hold') {
  const interrupt = abortOnSignals();
  await withLease(
    store,
    env,
    holder,
    () => {
      print({ holding: true });
      // Stands for real work in flight; the lease's own renewal timer does not keep a process alive.
      setInterval(() => undefined, 1000);
      return new Promise<never>(() => undefined);
    },
    { ttlMs: 60_000, signal: interrupt.signal, onAbortHandled: interrupt.handled },
  );
} else if (mode === 'run') {
  const [where, ttl] = process.argv.slice(6) as [string, string];
  const runHolder = { ...holder, host: where === 'here' ? hostname() : 'other-host' };
  await store.startRun({ runId, command: 'apply', environment: env, host: runHolder.host, pid: process.pid });
  await withLease(
    store,
    env,
    runHolder,
    () => {
      print({ holding: true });
      setInterval(() => undefined, 1000);
      return new Promise<never>(() => undefined);
    },
    { ttlMs: Number(ttl) },
  );
} else if (mode === 'crash') {
  const result = await store.acquireLease(env, holder, 60_000);
  print({ acquired: result.acquired });
  process.exit(0);
}
