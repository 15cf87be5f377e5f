/**
 * No secret in the fleet repository: every text file of it (YAML values and comments, READMEs,
 * workflows, anything else) is scanned for credentials, because whatever is committed is readable
 * by everyone with access to the repository and stays in its history. Secrets come from the
 * environment only (the provisioning contract's variables).
 *
 * The files are those git would commit: tracked plus untracked-but-not-ignored (so an ignored
 * `.env` or `.tenantform/state.db` on an operator's machine is not the repository's business).
 * Outside a git work tree every file under the folder except `.git/`, `node_modules/` and
 * `.tenantform/`. Binary files (a NUL byte near the start) are skipped.
 *
 * A finding names the file, line, column and rule and never the value; the values are returned
 * apart so the caller can register them with the redactor, which then scrubs them from any other
 * message that might quote the same text (a schema error about that field, say).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { lintSource } from '@secretlint/core';
import { creator as recommended } from '@secretlint/secretlint-rule-preset-recommend';
import type { SecretLintCoreConfig } from '@secretlint/types';
import ignore from 'ignore';
import { simpleGit } from 'simple-git';
import type { Diagnostic } from './diagnostics.js';
import { highEntropyHits, patternHits, type RuleHit } from './secret-rules.js';

/** Larger files are reported as not scanned rather than read whole. */
export const MAX_SCANNED_BYTES = 4 * 1024 * 1024;

const SKIPPED_DIRS = new Set(['.git', 'node_modules', '.tenantform']);

/**
 * secretlint's own ignore file (gitignore syntax), for a repository that holds more than a fleet
 * (the tenantform project itself, whose tests are full of fake credentials). It cannot exempt the
 * fleet's own files: fleet.yaml and tenants/ are always scanned.
 */
export const IGNORE_FILE = '.secretlintignore';
const ALWAYS_SCANNED = /^(?:fleet\.yaml$|tenants\/)/;

const SECRETLINT_CONFIG: SecretLintCoreConfig = {
  rules: [
    {
      id: '@secretlint/secretlint-rule-preset-recommend',
      rule: recommended,
      rules: [
        // AWS access key ids are credentials too (off by default in secretlint).
        { id: '@secretlint/secretlint-rule-aws', options: { enableIDScanRule: true } },
        // No `secretlint-disable` comments: a fleet repository has no reason to hold a secret.
        { id: '@secretlint/secretlint-rule-filter-comments', disabled: true },
      ],
    },
  ],
};

/** People-facing names for secretlint's rules (by the last part of the rule id). */
const SECRETLINT_NAMES: Record<string, string> = {
  aws: 'an AWS credential',
  github: 'a GitHub token (a GHCR pull token is one)',
  privatekey: 'a private key',
  'database-connection-string': 'a connection string with a password',
  basicauth: 'a URL with a password',
  npm: 'an npm token',
  slack: 'a Slack token',
  gcp: 'a Google Cloud key',
};

export interface SecretScan {
  diagnostics: Diagnostic[];
  /** The credentials found, for the redactor only: never print them. */
  values: string[];
}

export async function scanForSecrets(root: string): Promise<SecretScan> {
  const diagnostics: Diagnostic[] = [];
  const values: string[] = [];
  for (const file of await scannedFiles(root)) {
    const abs = join(root, ...file.split('/'));
    let size: number;
    try {
      const st = statSync(abs);
      if (!st.isFile()) continue;
      size = st.size;
    } catch {
      continue; // tracked but deleted in the work tree
    }
    if (size > MAX_SCANNED_BYTES) {
      diagnostics.push({
        severity: 'warning',
        file,
        line: 0,
        col: 0,
        path: '',
        message: `Not scanned for secrets: larger than ${MAX_SCANNED_BYTES / 1024 / 1024} MiB.`,
      });
      continue;
    }
    const bytes = readFileSync(abs);
    if (bytes.subarray(0, 8000).includes(0)) continue;
    const text = bytes.toString('utf8');
    for (const hit of await findSecrets(file, text)) {
      const { line, col } = position(text, hit.index);
      values.push(text.slice(hit.index, hit.index + hit.length));
      diagnostics.push({
        severity: 'error',
        file,
        line,
        col,
        path: hit.rule,
        message: `This looks like ${hit.what}. A fleet repository must hold no credential: give it to tenantform through the environment (the provisioning contract's variables), and rotate it if it was ever pushed.`,
      });
    }
  }
  return { diagnostics, values };
}

/** Every hit in one text, specific rules first; a hit overlapping an earlier one is dropped. */
export async function findSecrets(file: string, text: string): Promise<RuleHit[]> {
  const result = await lintSource({
    source: { filePath: file, content: text, contentType: 'text' },
    options: { maskSecrets: true, noPhysicFilePath: true, config: SECRETLINT_CONFIG },
  });
  const fromSecretlint: RuleHit[] = result.messages.map((m) => {
    const short = m.ruleId.replace(/^@secretlint\/secretlint-rule-/, '');
    const [index, length] = m.messageId === 'AWSSecretAccessKey' ? awsSecretValue(text, m.range[0]) : [m.range[0], m.range[1] - m.range[0]];
    return { index, length, rule: m.ruleId, what: SECRETLINT_NAMES[short] ?? `a credential (${short})` };
  });
  const kept: RuleHit[] = [];
  const overlaps = (h: RuleHit) => kept.some((k) => h.index < k.index + k.length && k.index < h.index + h.length);
  for (const group of [fromSecretlint, patternHits(text), highEntropyHits(text)]) {
    for (const h of group.sort((a, b) => a.index - b.index)) if (!overlaps(h)) kept.push(h);
  }
  return kept.sort((a, b) => a.index - b.index);
}

/**
 * secretlint 12's AWSSecretAccessKey range starts where its match starts (at `aws_secret_access_key`)
 * and is as long as the key, so it would point at the name and cut the value short. The value is
 * the 40 characters after the connector.
 */
function awsSecretValue(text: string, start: number): [number, number] {
  const m = /^[^\n]*?(?::|=>|=)\s*["']?([A-Za-z0-9/+=]{40})/.exec(text.slice(start));
  if (!m) return [start, 40];
  return [start + m[0].length - 40, 40];
}

/** 1-based line and column (in UTF-16 code units, as editors and GitHub annotations count). */
function position(text: string, index: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < index; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, col: index - lineStart + 1 };
}

async function scannedFiles(root: string): Promise<string[]> {
  const files = await repositoryFiles(root);
  let rules: string;
  try {
    rules = readFileSync(join(root, IGNORE_FILE), 'utf8');
  } catch {
    return files;
  }
  const ignored = ignore().add(rules);
  return files.filter((f) => ALWAYS_SCANNED.test(f) || !ignored.ignores(f));
}

async function repositoryFiles(root: string): Promise<string[]> {
  try {
    const git = simpleGit({ baseDir: root });
    if ((await git.raw(['rev-parse', '--is-inside-work-tree'])).trim() === 'true') {
      const out = await git.raw(['ls-files', '-z', '--cached', '--others', '--exclude-standard']);
      return [...new Set(out.split('\0').filter((p) => p !== ''))].sort();
    }
  } catch {
    // Not a work tree, or no git: walk the folder.
  }
  return walk(root, root).sort();
}

function walk(root: string, dir: string): string[] {
  const out: string[] = [];
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out; // a missing repository is loadFleet's to report
  }
  for (const entry of entries) {
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name)) out.push(...walk(root, join(dir, entry.name)));
    } else if (entry.isFile()) {
      out.push(relative(root, join(dir, entry.name)).split(sep).join('/'));
    }
  }
  return out;
}
