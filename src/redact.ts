/**
 * Secret scrubbing. Secrets are known by value (registered when generated or read from the
 * environment) and by the key they sit under in structured data. Every output path — CLI output,
 * logs, error messages, audit rows — passes text through a Redactor, so a secret that leaks into
 * an SDK error message or a summary object is still replaced before anyone sees it.
 */

export const REDACTED = '[REDACTED]';

/** Shorter values are not registered: replacing "dev" or "true" everywhere would mangle output. */
export const MIN_SECRET_LENGTH = 6;

/** Environment variables of the provisioning contract that hold secrets. */
export const SECRET_ENV_VARS: readonly string[] = [
  'SECRETS_ENCRYPTION_KEY',
  'PROVISION_SHARED_SECRET',
  'CP_ADMIN_API_TOKEN',
  'CLOUDFLARE_API_TOKEN',
  'GHCR_PULL_TOKEN',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
];

/**
 * Object keys whose values are secret whatever they hold. Matched on the key lower-cased with
 * separators removed, by suffix, so `adminToken`, `db_password` and `SecretString` match while
 * `secretName` and `secretArn` (identifiers, needed in audit rows) do not.
 */
const SECRET_KEY_SUFFIXES = [
  'password',
  'passwd',
  'passphrase',
  'secret',
  'secretstring',
  'secretvalue',
  'secretkey',
  'secretaccesskey',
  'token',
  'apikey',
  'privatekey',
  'encryptionkey',
  'authorization',
  'credentials',
];

export function isSecretKey(key: string): boolean {
  const k = key.toLowerCase().replace(/[^a-z0-9]/g, '');
  return SECRET_KEY_SUFFIXES.some((s) => k.endsWith(s));
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export class Redactor {
  private readonly values = new Set<string>();
  private pattern: RegExp | undefined;

  /** Registers a secret value; also its JSON-escaped and URL-encoded forms, which is how it shows up in serialised text. */
  register(value: string | undefined | null): void {
    if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH) return;
    const forms = [value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value)];
    for (const f of forms) {
      if (!this.values.has(f)) {
        this.values.add(f);
        this.pattern = undefined;
      }
    }
  }

  /** Registers the values of the named environment variables that are set. */
  registerEnv(env: NodeJS.ProcessEnv, names: readonly string[] = SECRET_ENV_VARS): void {
    for (const name of names) this.register(env[name]);
  }

  /** How many distinct forms are registered (for diagnostics; never the values). */
  get size(): number {
    return this.values.size;
  }

  redact(text: string): string {
    if (this.values.size === 0 || text.length < MIN_SECRET_LENGTH) return text;
    return text.replace(this.regex(), REDACTED);
  }

  /**
   * A copy of `value` with every string redacted and every value under a secret-looking key
   * replaced. Plain objects and arrays are copied; Errors become `{ name, message }`; other
   * objects (Dates, class instances) are kept as they are.
   */
  redactDeep<T>(value: T): T {
    return this.deep(value, new WeakMap()) as T;
  }

  private deep(value: unknown, seen: WeakMap<object, unknown>): unknown {
    if (typeof value === 'string') return this.redact(value);
    if (value === null || typeof value !== 'object') return value;
    const known = seen.get(value);
    if (known !== undefined) return known;
    if (value instanceof Error) {
      return { name: value.name, message: this.redact(value.message) };
    }
    if (Array.isArray(value)) {
      const out: unknown[] = [];
      seen.set(value, out);
      for (const item of value) out.push(this.deep(item, seen));
      return out;
    }
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) return value;
    const out: Record<string, unknown> = {};
    seen.set(value, out);
    for (const [k, v] of Object.entries(value)) {
      out[k] = isSecretKey(k) && v !== null && v !== undefined && v !== '' ? REDACTED : this.deep(v, seen);
    }
    return out;
  }

  private regex(): RegExp {
    if (!this.pattern) {
      // Longest first, so a secret that contains another secret is replaced whole.
      const alternatives = [...this.values].sort((a, b) => b.length - a.length).map(escapeRegExp);
      this.pattern = new RegExp(alternatives.join('|'), 'g');
    }
    return this.pattern;
  }
}

/**
 * The CLI's redactor: its commands register the environment's secrets in it, apply the generated
 * ones, and the top-level error output scrubs with it. Only src/cli uses it; the use cases
 * (src/app) and everything below them get a Redactor passed in, so runs in one process share none.
 */
export const redactor = new Redactor();

/** Wraps text writers (such as the CLI's Io) so everything written through them is redacted. */
export function redactWriters<T extends { stdout: (t: string) => void; stderr: (t: string) => void }>(io: T, r: Redactor = redactor): T {
  const { stdout, stderr } = io;
  return { ...io, stdout: (t: string) => stdout(r.redact(t)), stderr: (t: string) => stderr(r.redact(t)) };
}
