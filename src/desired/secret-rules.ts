/**
 * What counts as a credential in a fleet repository's text. Most of it is secretlint's maintained
 * rule set (@secretlint/secretlint-rule-preset-recommend: AWS, GitHub — which is what a GHCR pull
 * token is —, GitLab, Slack, npm, private keys, connection strings with passwords, …). Three gaps are
 * filled here, each kept narrow:
 *  - Cloudflare: secretlint has no rule; these follow gitleaks' cloudflare-api-key,
 *    cloudflare-global-api-key and cloudflare-origin-ca-key rules (a 40-character token or a
 *    37-hex global key next to the word "cloudflare"; an Origin CA key by its v1.0- shape).
 *  - Any PEM private key block: secretlint's private key rule wants a body of 100+ characters,
 *    so a short key (ed25519) slips through it.
 *  - Long high-entropy strings, which is what a token of a kind no rule knows looks like.
 * Exempt from the entropy rule, because a fleet repository is full of them and none is secret:
 * UUIDs (the fleet's org and workspace ids), AMI ids, image and content digests (sha256:…,
 * sha512-… integrity strings), git commit SHAs (40 hex) and Cloudflare account, zone and tunnel
 * ids (32 hex), each standing alone. A longer hex string (a 64-hex key) is not exempt.
 */

export interface RuleHit {
  /** Offset of the first character of the credential in the text. */
  index: number;
  length: number;
  /** Stable id, shown to people: `tenantform/<name>` or a secretlint rule id. */
  rule: string;
  /** What it looks like, e.g. "a Cloudflare API token". */
  what: string;
}

const CLOUDFLARE_KEYWORD = String.raw`(?:cloudflare)(?:[ \t\w.-]{0,20})[\s'"]{0,3}(?:=|>|:{1,3}=|\|\||:|=>|\?=|,)[\x60'"\s=]{0,5}`;
const TOKEN_END = String.raw`(?=[\x60'"\s;]|\\[nr]|$)`;

interface PatternRule {
  rule: string;
  what: string;
  /** Group 1 is the credential. */
  pattern: RegExp;
}

const PATTERN_RULES: readonly PatternRule[] = [
  {
    rule: 'tenantform/cloudflare-api-token',
    what: 'a Cloudflare API token',
    pattern: new RegExp(String.raw`${CLOUDFLARE_KEYWORD}([A-Za-z0-9_-]{40})${TOKEN_END}`, 'gim'),
  },
  {
    rule: 'tenantform/cloudflare-global-api-key',
    what: 'a Cloudflare global API key',
    pattern: new RegExp(String.raw`${CLOUDFLARE_KEYWORD}([a-f0-9]{37})${TOKEN_END}`, 'gim'),
  },
  {
    rule: 'tenantform/cloudflare-origin-ca-key',
    what: 'a Cloudflare Origin CA key',
    pattern: new RegExp(String.raw`\b(v1\.0-[a-f0-9]{24}-[a-f0-9]{146})${TOKEN_END}`, 'gm'),
  },
  {
    rule: 'tenantform/private-key',
    what: 'a private key',
    // The whole block (to its END line, else to the end of the text), so its body is one finding.
    pattern: /(-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----|(?![\s\S])))/g,
  },
];

/** Blanked out before the entropy rule looks at the text (same length, so offsets stay right). */
const EXEMPT: readonly RegExp[] = [
  /\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b/g,
  /\bami-[0-9a-f]{8,17}\b/g,
  /\bsha(?:1|224|256|384|512)[:-][A-Za-z0-9+/=]+/g,
  /(?<![A-Za-z0-9+/=_-])(?:[0-9a-f]{32}|[0-9a-f]{40})(?![A-Za-z0-9+/=_-])/g,
];

const CANDIDATE = /[A-Za-z0-9+/=_-]{32,}/g;
const MIN_LENGTH = 32;
/** Bits per character. Random hex sits near 3.7 at this length, random base64 near 4.7. */
const HEX_ENTROPY = 3.0;
const MIXED_ENTROPY = 4.3;

export function shannonEntropy(s: string): number {
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

function looksRandom(token: string): boolean {
  const core = token.replace(/=+$/, '');
  if (core.length < MIN_LENGTH) return false;
  if (/^[0-9a-f]+$/.test(core) || /^[0-9A-F]+$/.test(core)) return /[0-9]/.test(core) && /[a-fA-F]/.test(core) && shannonEntropy(core) >= HEX_ENTROPY;
  // Words joined by separators (a long name, a path) use one or two character classes; a token uses three.
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/].filter((c) => c.test(core)).length;
  return classes === 3 && shannonEntropy(core) >= MIXED_ENTROPY;
}

export function highEntropyHits(text: string): RuleHit[] {
  let blanked = text;
  for (const re of EXEMPT) blanked = blanked.replace(re, (m) => ' '.repeat(m.length));
  const hits: RuleHit[] = [];
  for (const m of blanked.matchAll(CANDIDATE)) {
    if (looksRandom(m[0]))
      hits.push({ index: m.index, length: m[0].length, rule: 'tenantform/high-entropy-string', what: 'a random token (a long high-entropy string)' });
  }
  return hits;
}

export function patternHits(text: string): RuleHit[] {
  const hits: RuleHit[] = [];
  for (const r of PATTERN_RULES) {
    for (const m of text.matchAll(r.pattern)) {
      const value = m[1]!;
      hits.push({ index: m.index + m[0].indexOf(value), length: value.length, rule: r.rule, what: r.what });
    }
  }
  return hits;
}
