/**
 * Where the audit database lives: `--db PATH`, else the TENANTFORM_DB variable, else
 * `.tenantform/state.db` in the fleet repository (git-ignored there, like here).
 */
import { isAbsolute, join, resolve } from 'node:path';

export const DB_ENV_VAR = 'TENANTFORM_DB';
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

export interface ResolvedDbPath {
  path: string;
  source: 'flag' | 'env' | 'repo';
}

export function resolveDbPath(input: DbPathInput): ResolvedDbPath {
  const abs = (p: string) => (p === ':memory:' || isAbsolute(p) ? p : resolve(input.cwd, p));
  if (input.flag) return { path: abs(input.flag), source: 'flag' };
  const fromEnv = input.env[DB_ENV_VAR];
  if (fromEnv) return { path: abs(fromEnv), source: 'env' };
  return { path: resolve(input.cwd, input.repoDir, DEFAULT_DB_RELATIVE_PATH), source: 'repo' };
}
