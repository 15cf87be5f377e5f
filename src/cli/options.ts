/** Options several commands share, declared once so their spelling and help text agree. */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { InputError } from '../errors.js';
import { redactor as defaultRedactor, type Redactor } from '../redact.js';
import { resolveDbPath } from '../store/path.js';
import { dbUrlSecrets, unsupportedDbUrl } from '../store/url.js';
import type { Io } from './io.js';

/** `--repo DIR`: the fleet repository; default the working directory. */
export function addRepoOption(cmd: Command): Command {
  return cmd.option('--repo <dir>', 'fleet repository (default: the working directory)');
}

export function repoDir(io: Io, repo: string | undefined): string {
  return resolve(io.cwd, repo ?? '.');
}

/** `--db PATH`: the audit database; default $TENANTFORM_DB, else <repo>/.tenantform/state.db. */
export function addDbOption(cmd: Command): Command {
  return cmd.option('--db <path>', 'audit database (default: $TENANTFORM_DB, else <repo>/.tenantform/state.db)');
}

/**
 * The audit database file of every command taking --db. A URL (from --db or $TENANTFORM_DB) is
 * refused here, before any path handling or file is made: exit 1, one line, its password
 * registered with the redactor and left out of the message.
 */
export function dbFile(io: Io, flags: { db?: string | undefined; repo?: string | undefined }, redactor: Redactor = defaultRedactor): string {
  const db = resolveDbPath({ flag: flags.db, env: io.env, repoDir: repoDir(io, flags.repo), cwd: io.cwd });
  if ('url' in db) {
    for (const s of dbUrlSecrets(db.url)) redactor.register(s);
    throw unsupportedDbUrl(db.url);
  }
  return db.path;
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
