/**
 * Crash worlds: the built CLI as a child process against moto (behind the fault proxy, with
 * ClientToken idempotency switched OFF, as moto itself behaves) and the Cloudflare double, and a
 * kill switch that SIGKILLs the child at a chosen mutating call. The call is held at the proxy or
 * the double until the child is dead, then
 *  - `before`: dropped without reaching the backend (the process died just before sending it);
 *  - `after`: served (it takes effect, and the answer goes nowhere: the process died right after
 *    sending it, before it could record anything).
 * Requests the child had in flight besides are dropped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { loadFleet } from '../../src/desired/load.js';
import { startApplyWorld, type ApplyWorld } from '../cli/apply-world.js';
import { censusProblems, identitiesOf, takeCensus } from '../support/census.js';
import type { RecordedAwsCall } from '../support/aws.js';
import type { RequestInfo } from '../support/cloudflare-double/index.js';

const BIN = fileURLToPath(new URL('../../bin/tenantform.js', import.meta.url));
export const DIST_MAIN = new URL('../../dist/cli/main.js', import.meta.url);

/**
 * The killed run's lease TTL: long, so a re-apply that waited for it to expire would be refused.
 * The killed holder ran on this host and its pid is gone, so its lease is reclaimed at once.
 */
export const KILLED_RUN_LOCK_TTL_SECONDS = 600;

/** One mutating call, as the proxy or the double saw it. */
export type MutatingCall = { side: 'aws'; call: RecordedAwsCall } | { side: 'cloudflare'; req: RequestInfo };

export interface KillPoint {
  /** e.g. "RunInstances (workspace)". */
  label: string;
  matches(call: MutatingCall): boolean;
  /** Kill at the nth matching call (1-based). */
  nth: number;
  when: 'before' | 'after';
}

export interface ChildRun {
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface KilledRun extends ChildRun {
  /** The call the child was killed at; undefined when the run never reached the kill point. */
  killedAt: string | undefined;
}

export interface CrashWorld {
  world: ApplyWorld;
  tenantform(args: string[]): Promise<ChildRun>;
  /** `apply --auto-approve` with the kill switch armed; resolves once the child is dead. */
  applyKilledAt(point: KillPoint): Promise<KilledRun>;
  /** The lease row of the environment, if any. */
  lease(): { pid: number; expiresAt: number } | undefined;
  /** Census problems against the fleet currently in the world's directory; [] when converged. */
  problems(): Promise<string[]>;
  removeTenant(slug: string): void;
  close(): Promise<void>;
}

function describeCall(c: MutatingCall): string {
  return c.side === 'aws' ? `${c.call.service} ${c.call.action}` : `cloudflare ${c.req.method} ${c.req.path}`;
}

function exitOf(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function startCrashWorld(): Promise<CrashWorld> {
  const world = await startApplyWorld();
  world.aws.faults.faithful.clientTokenIdempotency = false;
  const env = { PATH: process.env.PATH ?? '', NO_COLOR: '1', ...world.env };

  const spawnCli = (args: string[]): { child: ChildProcess; done: Promise<ChildRun> } => {
    const child = spawn(process.execPath, [BIN, ...args, ...(args[0] === 'apply' ? ['--db', world.db] : [])], { cwd: world.dir, env });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const done = new Promise<ChildRun>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => resolve({ pid: child.pid!, code, signal, stdout, stderr }));
    });
    return { child, done };
  };

  return {
    world,
    tenantform: (args) => spawnCli(args).done,

    async applyKilledAt(point) {
      const { child, done } = spawnCli(['apply', '--auto-approve', '--lock-ttl', String(KILLED_RUN_LOCK_TTL_SECONDS)]);
      let killedAt: string | undefined;
      let seen = 0;
      let killed = false;
      /**
       * Whether this request must not reach the backend. Requests are held here until the child
       * is dead, so the call that hits the kill point is exactly the last one it sent.
       */
      const blocks = async (c: MutatingCall | undefined): Promise<boolean> => {
        if (killed) return true;
        if (!c || !point.matches(c) || ++seen !== point.nth) return false;
        killed = true;
        killedAt = describeCall(c);
        child.kill('SIGKILL');
        await exitOf(child);
        return point.when === 'before';
      };
      const offAws = world.aws.onCall(async (call) => {
        // Throwing from the hook makes the proxy drop the connection without forwarding the call.
        if (await blocks(call.mutating ? { side: 'aws', call } : undefined)) throw new Error('the client was killed before this call');
      });
      const offCf = world.cf.onRequest(async (req) => {
        if (await blocks(req.mutating ? { side: 'cloudflare', req } : undefined)) {
          const path = new RegExp(`^${req.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
          world.cf.faults.add({ method: req.method, path, kind: 'drop' });
        }
      });
      try {
        const run = await done;
        return { ...run, killedAt };
      } finally {
        offAws();
        offCf();
      }
    },

    lease() {
      const conn = new Database(world.db, { readonly: true });
      try {
        const row = conn.prepare('SELECT pid, expires_at FROM leases WHERE environment = ?').get('dev') as { pid: number; expires_at: number } | undefined;
        return row ? { pid: row.pid, expiresAt: row.expires_at } : undefined;
      } finally {
        conn.close();
      }
    },

    async problems() {
      const loaded = await loadFleet(world.dir);
      if (!loaded.state) throw new Error(`the fleet in ${world.dir} does not load`);
      const census = await takeCensus(world.check, world.cf, 'dev');
      return censusProblems(census, identitiesOf(loaded.state));
    },

    removeTenant(slug) {
      rmSync(join(world.dir, 'tenants', slug), { recursive: true });
    },

    close: () => world.close(),
  };
}

/** mulberry32: a small seeded PRNG, so a failing seed reproduces the same kill points. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** CRASH_SEED from the environment reproduces a run; otherwise a fresh seed each time. */
export function crashSeed(): number {
  const fromEnv = process.env.CRASH_SEED;
  if (fromEnv !== undefined && /^\d+$/.test(fromEnv)) return Number(fromEnv);
  return Math.floor(Math.random() * 2 ** 31);
}

/** A kind of mutating call and how many of them one apply of the scenario makes. */
export interface CallKind {
  label: string;
  occurrences: number;
  matches(call: MutatingCall): boolean;
}

/** One kill point per kind: a random occurrence, `before` and `after` alternating from a random start. */
export function pickKillPoints(kinds: CallKind[], random: () => number): KillPoint[] {
  const firstAfter = random() < 0.5;
  return kinds.map((k, i) => ({
    label: k.label,
    matches: k.matches,
    nth: 1 + Math.floor(random() * k.occurrences),
    when: (i % 2 === 0) === firstAfter ? 'after' : 'before',
  }));
}

/** The Role tag RunInstances or CreateSecurityGroup carries in its TagSpecifications. */
function roleTag(params: Record<string, unknown>): string | undefined {
  for (const [key, value] of Object.entries(params)) {
    const m = /^TagSpecification\.(\d+)\.Tag\.(\d+)\.Key$/.exec(key);
    if (m && value === 'Role') return params[`TagSpecification.${m[1]}.Tag.${m[2]}.Value`] as string | undefined;
  }
  return undefined;
}

export function awsKind(label: string, action: string, occurrences: number, role?: 'tenant' | 'workspace'): CallKind {
  return {
    label,
    occurrences,
    matches: (c) => c.side === 'aws' && c.call.action === action && (role === undefined || roleTag(c.call.params) === role),
  };
}

export function cloudflareKind(label: string, method: string, path: RegExp, occurrences: number): CallKind {
  return { label, occurrences, matches: (c) => c.side === 'cloudflare' && c.req.method === method && path.test(c.req.path) };
}
