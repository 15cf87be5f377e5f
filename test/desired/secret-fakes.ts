/**
 * Credentials of the shapes the secret scan must find, made fresh at run time: none is a literal
 * in the source (so no scanner, ours or a forge's push protection, trips over the test files), and
 * each test can hunt for the exact value in what tenantform printed.
 */
import { generateKeyPairSync, randomInt } from 'node:crypto';

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';
const ALNUM = UPPER + LOWER + DIGITS;

export function randomFrom(alphabet: string, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[randomInt(alphabet.length)];
  return s;
}

/** Random but with every class present, so no test depends on a lucky draw. */
function mixed(alphabet: string, n: number): string {
  return `${randomFrom(UPPER, 1)}${randomFrom(LOWER, 1)}${randomFrom(DIGITS, 1)}${randomFrom(alphabet, n - 3)}`;
}

export interface Fake {
  name: string;
  /** The credential itself (what must never be printed). */
  value: string;
  /** A line holding it as an operator might write it. */
  line: string;
  /** Column (1-based) where the value starts in `line`. */
  col: number;
}

function fake(name: string, prefix: string, value: string, suffix = ''): Fake {
  return { name, value, line: `${prefix}${value}${suffix}`, col: prefix.length + 1 };
}

export function fakes(): Fake[] {
  return [
    fake('AWS access key id', 'accessKeyId: ', `AKIA${randomFrom(UPPER + DIGITS, 16)}`),
    fake('AWS secret access key', 'aws_secret_access_key: ', mixed(`${ALNUM}/+`, 40)),
    fake('GitHub classic token', '# the old pull token was ', `ghp_${mixed(ALNUM, 36)}`),
    fake('GHCR pull token (GitHub fine-grained)', 'GHCR_PULL_TOKEN: ', `github_pat_${mixed(ALNUM, 22)}_${mixed(ALNUM, 59)}`),
    fake('GitHub Actions token', 'token: ', `ghs_${mixed(ALNUM, 36)}`),
    fake('Cloudflare API token (by keyword)', 'cloudflare_api_token: ', randomFrom(LOWER + DIGITS + '_-', 40)),
    fake('Cloudflare API token (by entropy)', '# token ', mixed(`${ALNUM}_-`, 40)),
    fake('Cloudflare Origin CA key', 'originKey: ', `v1.0-${randomFrom('0123456789abcdef', 24)}-${randomFrom('0123456789abcdef', 146)}`),
    fake('long base64 string', 'note: ', mixed(`${ALNUM}+/`, 48)),
    fake('64-hex key', 'SECRETS_ENCRYPTION_KEY: ', `${randomFrom('abcdef', 1)}${randomFrom(DIGITS, 1)}${randomFrom('0123456789abcdef', 62)}`),
  ];
}

/** PEM private keys; the value is the header line, the first thing that must not be printed. */
export function privateKeys(): Array<{ name: string; pem: string }> {
  return [
    { name: 'RSA (PKCS#1)', pem: generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs1' }) as string },
    { name: 'ed25519 (PKCS#8, short)', pem: generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }) as string },
    { name: 'EC (SEC1)', pem: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'sec1' }) as string },
  ];
}

/** Texts a fleet repository is full of, none of them secret. */
export const NOT_SECRETS: Array<{ name: string; line: string }> = [
  { name: 'UUID org id', line: 'orgId: 5f0c6a52-3b1e-4c8e-9a57-2d41e8a0b001' },
  { name: 'UUIDs side by side', line: '# moved 0b8e4f7a-61c2-4d3e-8f90-a1b2c3d4e001,0b8e4f7a-61c2-4d3e-8f90-a1b2c3d4e002' },
  { name: 'AMI id', line: 'defaultAmi: ami-0123456789abcdef0' },
  { name: 'short AMI id', line: 'ami: ami-06dd8860' },
  { name: 'image digest', line: 'image: ghcr.io/example/platform@sha256:9b2f7c3e1a4d5b6c7d8e9f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e' },
  { name: 'bare sha256 digest', line: 'digest: sha256:0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0' },
  { name: 'npm integrity', line: '"integrity": "sha512-Qh3p6cO+MdhwVIQ7Y1Ywd3zD0F3vPmGx1hHOoWEa5JYj2nvB6x2wB+e3bRz1N0iPTlAe3Yq3bxXZcR3iS9vJXg=="' },
  { name: 'git commit sha', line: '# pinned at 9e986be2c1f4a8d3b7e6f5a4c3b2a1908f7e6d5c' },
  { name: 'action pinned to a commit', line: '      - uses: actions/checkout@9e986be2c1f4a8d3b7e6f5a4c3b2a1908f7e6d5c # v4.2.2' },
  { name: 'Cloudflare account id', line: 'CLOUDFLARE_ACCOUNT_ID: 023e105f4ecef8ad9ca31a8372d0c353' },
  { name: 'long name', line: 'runtime: claude-code-with-a-very-long-descriptive-runtime-name' },
  { name: 'camelCase identifier', line: 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: NodeVersionSupportWarningDisabled' },
  { name: 'path', line: 'run: /usr/lib/postgresql/15/bin/initdb --pgdata /var/lib/postgresql/15/main' },
  { name: 'environment reference', line: '          CLOUDFLARE_API_TOKEN: ${{ secrets.CLOUDFLARE_API_TOKEN }}' },
  { name: 'image tag', line: 'tenantImage: ghcr.io/example/platform:1.5.0-rc.1' },
];
