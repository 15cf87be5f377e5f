/**
 * Where the audit database lives: `--db PATH|URL`, else the TENANTFORM_DB variable, else
 * DATABASE_URL when it is a postgres:// URL (the variable hosted CI and platforms set; any other
 * value there belongs to something else and is ignored), else `.tenantform/state.db` in the fleet
 * repository (git-ignored there, like here). A URL (`postgres://…`, any `scheme://`) is
 * recognised before any path handling and returned as such.
 */
import { isAbsolute, join, resolve } from 'node:path';
import { isDbUrl, isPostgresUrl } from './url.js';

export const DB_ENV_VAR = 'TENANTFORM_DB';
export const DATABASE_URL_VAR = 'DATABASE_URL';
export const DEFAULT_DB_RELATIVE_PATH = join('.tenantform', 'state.db');

export interface DbPathInput {
  /** The --db flag. */
  flag?: string | undefined;
  env: NodeJS.ProcessEnv;
  /** The fleet repository (the --repo flag, else the working directory). */
  repoDir: string;
  /** Relative flag and variable values resolve against this. */
  cwd: string;
}

/** A SQLite file, or a URL as given (it may hold a password: show it with displayDbLocation). */
export type ResolvedDbPath = { path: string; source: 'flag' | 'env' | 'repo' } | { url: string; source: 'flag' | 'env' | 'databaseUrl' };

export function resolveDbPath(input: DbPathInput): ResolvedDbPath {
  const abs = (p: string) => (p === ':memory:' || isAbsolute(p) ? p : resolve(input.cwd, p));
  if (input.flag) return isDbUrl(input.flag) ? { url: input.flag, source: 'flag' } : { path: abs(input.flag), source: 'flag' };
  const fromEnv = input.env[DB_ENV_VAR];
  if (fromEnv) return isDbUrl(fromEnv) ? { url: fromEnv, source: 'env' } : { path: abs(fromEnv), source: 'env' };
  const databaseUrl = input.env[DATABASE_URL_VAR];
  if (databaseUrl && isPostgresUrl(databaseUrl)) return { url: databaseUrl, source: 'databaseUrl' };
  return { path: resolve(input.cwd, input.repoDir, DEFAULT_DB_RELATIVE_PATH), source: 'repo' };
}
