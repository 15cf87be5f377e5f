/** Options several commands share, declared once so their spelling and help text agree. */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { InputError } from '../errors.js';
import { redactor as defaultRedactor, type Redactor } from '../redact.js';
import { DATABASE_URL_VAR, DB_ENV_VAR, resolveDbPath } from '../store/path.js';
import { dbUrlSecrets, isPostgresUrl, unsupportedDbUrl } from '../store/url.js';
import type { Io } from './io.js';

/** `--repo DIR`: the fleet repository; default the working directory. */
export function addRepoOption(cmd: Command): Command {
  return cmd.option('--repo <dir>', 'fleet repository (default: the working directory)');
}

export function repoDir(io: Io, repo: string | undefined): string {
  return resolve(io.cwd, repo ?? '.');
}

/** `--db PATH|URL`: the audit database; default $TENANTFORM_DB, else a postgres:// $DATABASE_URL, else <repo>/.tenantform/state.db. */
export function addDbOption(cmd: Command): Command {
  return cmd.option(
    '--db <path|url>',
    'audit database: a SQLite file or a postgres:// URL (default: $TENANTFORM_DB, else $DATABASE_URL, else <repo>/.tenantform/state.db)',
  );
}

/**
 * The audit database of every command taking --db: a SQLite file path or a postgres:// URL.
 * Any other URL is refused here, before any path handling or file is made: exit 1, one line.
 * A URL's password is registered with the redactor first, whatever happens next.
 */
export function dbFile(io: Io, flags: { db?: string | undefined; repo?: string | undefined }, redactor: Redactor = defaultRedactor): string {
  registerDbSecrets(io.env, redactor, flags.db);
  const db = resolveDbPath({ flag: flags.db, env: io.env, repoDir: repoDir(io, flags.repo), cwd: io.cwd });
  if ('url' in db) {
    if (!isPostgresUrl(db.url)) throw unsupportedDbUrl(db.url);
    return db.url;
  }
  return db.path;
}

/** Registers the passwords of every database URL a command could see (--db, $TENANTFORM_DB, $DATABASE_URL). */
export function registerDbSecrets(env: NodeJS.ProcessEnv, redactor: Redactor, flag?: string): void {
  for (const location of [flag, env[DB_ENV_VAR], env[DATABASE_URL_VAR]]) if (location) for (const s of dbUrlSecrets(location)) redactor.register(s);
}

/** Commander's collector for a repeatable option (`--replace a --replace b`). */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function parsePositiveInt(flag: string, value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new InputError(`expected a positive whole number, got "${value}"`, { operation: 'read command line', resource: flag });
  }
  return n;
}
