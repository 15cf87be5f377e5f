/**
 * A throwaway PostgreSQL cluster for tests and the store benchmark: the Debian `postgresql`
 * server binaries (initdb, pg_ctl), never a mock. Started on first use in a process (about 3 s),
 * one database per test for isolation, stopped and removed when the process ends, however it
 * ends: a watchdog shell holds a pipe from this process and stops the cluster when the pipe
 * reaches EOF, which happens when this process exits, is torn down by vitest, or is SIGKILLed.
 *
 * Password authentication (scram-sha-256) over TCP on 127.0.0.1, so tests can check that a wrong
 * password fails and that the password never shows; trust on the cluster's own unix socket,
 * which lives in the temp dir. fsync off and --no-sync: the data is thrown away.
 *
 * No binaries: it fails with the install command (tests needing PostgreSQL never skip).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export const PG_INSTALL_HINT = 'install the PostgreSQL server: apt-get install -y postgresql (Debian; the tests start their own throwaway cluster)';

export interface PostgresServer {
  host: string;
  port: number;
  user: string;
  password: string;
  /** A URL for an existing database of this cluster. */
  url(database: string): string;
  /** Creates a fresh, empty database and returns its URL. */
  createDatabase(prefix?: string): Promise<string>;
  stop(): Promise<void>;
}

/** The newest /usr/lib/postgresql/<major>/bin holding initdb and pg_ctl. */
export function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root)
    ? readdirSync(root)
        .filter((d) => existsSync(join(root, d, 'bin', 'initdb')) && existsSync(join(root, d, 'bin', 'pg_ctl')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (majors.length === 0) throw new Error(`PostgreSQL server binaries not found under ${root}/*/bin: ${PG_INSTALL_HINT}`);
  return join(root, majors[0]!, 'bin');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const asRoot = process.getuid?.() === 0;

/** initdb and postgres refuse to run as root: as root, run them as the postgres user. */
function asPostgres(cmd: string, args: string[]): { file: string; args: string[] } {
  return asRoot ? { file: 'runuser', args: ['-u', 'postgres', '--', cmd, ...args] } : { file: cmd, args };
}

function run(cmd: string, args: string[], what: string): void {
  const c = asPostgres(cmd, args);
  const r = spawnSync(c.file, c.args, { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${what} failed (${r.error?.message ?? `exit ${r.status}`}): ${(r.stderr || r.stdout || '').trim().slice(-1500)}`);
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export async function startPostgres(): Promise<PostgresServer> {
  const bin = postgresBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'tenantform-pg-'));
  const data = join(dir, 'data');
  const password = `tf-pw-${randomBytes(9).toString('hex')}`;
  const pwfile = join(dir, 'pwfile');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (asRoot) {
    const pw = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const uid = Number(pw.stdout.trim());
    if (pw.status !== 0 || !Number.isInteger(uid)) throw new Error(`no postgres user to run the cluster as: ${PG_INSTALL_HINT}`);
    const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    chownSync(dir, uid, gid);
    chownSync(pwfile, uid, gid);
  }
  run(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '--auth-host=scram-sha-256', `--pwfile=${pwfile}`, '--no-sync', '-E', 'UTF8'], 'initdb');

  const port = await freePort();
  const pgctl = join(bin, 'pg_ctl');
  // The watchdog: waits for EOF on its stdin (this process gone), then stops the cluster and removes it.
  const stopCmd = asPostgres(pgctl, ['-D', data, '-m', 'immediate', '-w', 'stop']);
  const watchdog: ChildProcess = spawn(
    'sh',
    ['-c', `cat >/dev/null; ${[stopCmd.file, ...stopCmd.args].map(shellQuote).join(' ')} >/dev/null 2>&1; rm -rf ${shellQuote(dir)}`],
    { stdio: ['pipe', 'ignore', 'ignore'], detached: true },
  );
  watchdog.unref();
  (watchdog.stdin as unknown as { unref?: () => void } | null)?.unref?.();

  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`;
  run(pgctl, ['-D', data, '-l', join(dir, 'log'), '-w', '-t', '60', '-o', opts, 'start'], 'pg_ctl start');

  const host = '127.0.0.1';
  const user = 'postgres';
  const url = (database: string) => `postgres://${user}:${encodeURIComponent(password)}@${host}:${port}/${database}`;
  let counter = 0;
  let stopped: Promise<void> | undefined;
  return {
    host,
    port,
    user,
    password,
    url,
    async createDatabase(prefix = 'tf') {
      const name = `${prefix}_${process.pid}_${++counter}_${randomBytes(3).toString('hex')}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
      const admin = new pg.Client({ connectionString: url('postgres') });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
      return url(name);
    },
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        if (watchdog.exitCode !== null || watchdog.signalCode !== null) return resolve();
        watchdog.once('exit', () => resolve());
        // Unreferenced so it never keeps a finished process alive; waited for here, so referenced again.
        watchdog.ref();
        watchdog.stdin?.end();
      });
      return stopped;
    },
  };
}

let shared: Promise<PostgresServer> | undefined;

/** This process's cluster, started on first use; it stops when the process ends. */
export function postgresServer(): Promise<PostgresServer> {
  shared ??= startPostgres();
  return shared;
}

/** A fresh database on this process's cluster. */
export async function freshPostgresUrl(prefix?: string): Promise<string> {
  return (await postgresServer()).createDatabase(prefix);
}
