import { describe, expect, it } from 'vitest';
import { isSecretKey, REDACTED, Redactor, redactor, redactWriters, SECRET_ENV_VARS } from '../src/redact.js';

describe('Redactor', () => {
  it('replaces every occurrence of a registered value', () => {
    const r = new Redactor();
    r.register('s3cr3t-db-pass');
    expect(r.redact('password=s3cr3t-db-pass; again s3cr3t-db-pass.')).toBe(`password=${REDACTED}; again ${REDACTED}.`);
    expect(r.redact('nothing secret here')).toBe('nothing secret here');
  });

  it('does not register short or empty values, which would mangle ordinary text', () => {
    const r = new Redactor();
    r.register('dev');
    r.register('');
    r.register(undefined);
    r.register(null);
    expect(r.size).toBe(0);
    expect(r.redact('env dev is fine')).toBe('env dev is fine');
  });

  it('treats regular-expression characters literally', () => {
    const r = new Redactor();
    r.register('a.b*c+(d)?[e]$^');
    expect(r.redact('x a.b*c+(d)?[e]$^ y aXbbbc')).toBe(`x ${REDACTED} y aXbbbc`);
  });

  it('replaces a secret that contains another secret as a whole', () => {
    const r = new Redactor();
    r.register('abcdef');
    r.register('abcdef-ghijkl');
    expect(r.redact('v=abcdef-ghijkl w=abcdef')).toBe(`v=${REDACTED} w=${REDACTED}`);
  });

  it('also catches the JSON-escaped and URL-encoded forms of a value', () => {
    const r = new Redactor();
    const secret = 'p"a\\ss w/rd&1';
    r.register(secret);
    expect(r.redact(JSON.stringify({ note: secret }))).toBe(`{"note":"${REDACTED}"}`);
    expect(r.redact(`https://x.test/?t=${encodeURIComponent(secret)}`)).toBe(`https://x.test/?t=${REDACTED}`);
  });

  it('registers the contract’s secret environment variables that are set', () => {
    const r = new Redactor();
    r.registerEnv({ CLOUDFLARE_API_TOKEN: 'cf-token-123456', GHCR_PULL_TOKEN: 'ghp_abcdefgh', MOLECULE_ENV: 'staging-env-name' });
    expect(SECRET_ENV_VARS).toEqual(
      expect.arrayContaining(['SECRETS_ENCRYPTION_KEY', 'PROVISION_SHARED_SECRET', 'CP_ADMIN_API_TOKEN', 'CLOUDFLARE_API_TOKEN', 'GHCR_PULL_TOKEN']),
    );
    expect(r.redact('cf-token-123456 ghp_abcdefgh staging-env-name')).toBe(`${REDACTED} ${REDACTED} staging-env-name`);
  });

  it('keeps instances isolated from each other and from the process-wide one', () => {
    const a = new Redactor();
    const b = new Redactor();
    a.register('only-in-a-123');
    expect(b.redact('only-in-a-123')).toBe('only-in-a-123');
    expect(redactor.redact('only-in-a-123')).toBe('only-in-a-123');
  });
});

describe('redactDeep', () => {
  it('redacts strings at any depth and values under secret-looking keys, without touching the input', () => {
    const r = new Redactor();
    r.register('generated-admin-token');
    const input = {
      slug: 'acme',
      secretName: 'tenantform/dev/tenants/org-1/bootstrap',
      nested: { dbPassword: 'short', list: ['ok', 'x generated-admin-token y'], count: 3, flag: true, none: null },
      SecretString: '{"a":1}',
      tunnel_token: 'eyJh',
      apiKey: 12345,
      emptyToken: '',
    };
    const out = r.redactDeep(input);
    expect(out).toEqual({
      slug: 'acme',
      secretName: 'tenantform/dev/tenants/org-1/bootstrap',
      nested: { dbPassword: REDACTED, list: ['ok', `x ${REDACTED} y`], count: 3, flag: true, none: null },
      SecretString: REDACTED,
      tunnel_token: REDACTED,
      apiKey: REDACTED,
      emptyToken: '',
    });
    expect(input.nested.list[1]).toBe('x generated-admin-token y');
  });

  it('turns errors into { name, message } with the message redacted, and survives cycles', () => {
    const r = new Redactor();
    r.register('hunter2hunter2');
    const cyclic: Record<string, unknown> = { error: new TypeError('bad hunter2hunter2') };
    cyclic.self = cyclic;
    const out = r.redactDeep(cyclic) as Record<string, unknown>;
    expect(out.error).toEqual({ name: 'TypeError', message: `bad ${REDACTED}` });
    expect(out.self).toBe(out);
  });

  it.each([
    ['password', true],
    ['db_password', true],
    ['adminToken', true],
    ['GHCR_PULL_TOKEN', true],
    ['SecretString', true],
    ['sharedSecret', true],
    ['encryptionKey', true],
    ['Authorization', true],
    ['secretName', false],
    ['secretArn', false],
    ['tokenBucket', false],
    ['slug', false],
  ])('isSecretKey(%s) = %s', (key, expected) => {
    expect(isSecretKey(key)).toBe(expected);
  });
});

describe('redactWriters', () => {
  it('redacts everything written to stdout and stderr', () => {
    const r = new Redactor();
    r.register('tok-abcdefgh');
    const out: string[] = [];
    const err: string[] = [];
    const io = redactWriters({ stdout: (t: string) => void out.push(t), stderr: (t: string) => void err.push(t), extra: 1 }, r);
    io.stdout('a tok-abcdefgh\n');
    io.stderr('error: tok-abcdefgh rejected\n');
    expect(out).toEqual([`a ${REDACTED}\n`]);
    expect(err).toEqual([`error: ${REDACTED} rejected\n`]);
    expect(io.extra).toBe(1);
  });
});
