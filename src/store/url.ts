/**
 * Audit database locations that are URLs (`postgres://user:password@host/db`, any `scheme://`;
 * only postgres:// and postgresql:// are opened).
 * They are recognised before any path handling, so a URL never becomes a relative file name
 * ("./postgres:/user:pw@host/db"), and they are only ever shown with their password removed:
 * error messages are printed without going through the redactor, and a short password ("pw")
 * is below the length the redactor registers.
 */
import { ConfigError } from '../errors.js';

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;
/** Query parameters libpq reads a password from. */
const PASSWORD_PARAM = /([?&](?:ssl)?password=)[^&#]*/gi;

export function isDbUrl(location: string): boolean {
  return SCHEME.test(location);
}

/** The URL's scheme, lower-cased ("postgres"); undefined for a path. */
export function dbUrlScheme(location: string): string | undefined {
  return SCHEME.exec(location)?.[1]?.toLowerCase();
}

/**
 * Splits a URL at its userinfo. The authority ends at the last "@" before the path, so a
 * password holding an unescaped "/" or "@" is still taken whole (over-redacting a display is
 * harmless; under-redacting is not).
 */
function userinfo(location: string): { head: string; user: string; password: string | undefined; rest: string } | undefined {
  const m = SCHEME.exec(location);
  if (!m) return undefined;
  const afterScheme = location.slice(m[0].length);
  const at = afterScheme.lastIndexOf('@');
  if (at < 0) return undefined;
  const info = afterScheme.slice(0, at);
  const colon = info.indexOf(':');
  return {
    head: m[0],
    user: colon < 0 ? info : info.slice(0, colon),
    password: colon < 0 ? undefined : info.slice(colon + 1),
    rest: afterScheme.slice(at + 1),
  };
}

/** The location as it may be shown: the password (in the userinfo or a query parameter) replaced. */
export function displayDbLocation(location: string): string {
  if (!isDbUrl(location)) return location;
  const u = userinfo(location);
  const shown = u && u.password !== undefined ? `${u.head}${u.user}:[REDACTED]@${u.rest}` : location;
  return shown.replace(PASSWORD_PARAM, '$1[REDACTED]');
}

/** The secret parts of a URL (raw and percent-decoded), for the redactor. */
export function dbUrlSecrets(location: string): string[] {
  if (!isDbUrl(location)) return [];
  const raw: string[] = [];
  const password = userinfo(location)?.password;
  if (password) raw.push(password);
  for (const m of location.matchAll(PASSWORD_PARAM)) {
    const value = location.slice(m.index + m[1]!.length, m.index + m[0].length);
    if (value) raw.push(value);
  }
  const out = new Set<string>();
  for (const s of raw) {
    out.add(s);
    try {
      out.add(decodeURIComponent(s));
    } catch {
      // Not valid percent-encoding: the raw form is all there is.
    }
  }
  return [...out];
}

/** A URL naming the PostgreSQL store (libpq's two schemes). */
export function isPostgresUrl(location: string): boolean {
  const scheme = dbUrlScheme(location);
  return scheme === 'postgres' || scheme === 'postgresql';
}

/** Why a URL cannot be opened: one line, exit 1, password removed. */
export function unsupportedDbUrl(location: string): ConfigError {
  const detail = `${dbUrlScheme(location)}:// URLs are not supported; use a postgres:// URL or a SQLite file path`;
  return new ConfigError(detail, { operation: 'open audit database', resource: displayDbLocation(location) });
}
