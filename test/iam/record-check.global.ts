/**
 * vitest globalSetup: the IAM policy check over the whole suite. Setup points every worker (and so
 * every fault proxy) at one record file (TENANTFORM_AWS_ACTION_RECORD, inherited by the forked
 * workers); teardown runs once after every test file has finished and compares what the product
 * actually called with what `tenantform iam-policy` grants (src/iam/policy.ts):
 * - an action made but not granted fails the run (always: a subset of the suite proves it too);
 * - an action granted but never made fails the run when the whole suite ran (a subset of the
 *   files cannot tell), except actions IAM checks without an API call of their own (iam:PassRole);
 * - a Secrets Manager call on a secret no statement granting that action names (its Resource
 *   patterns, IAM's `*` and `?`) fails the run: the bundles under `tenantform/<env>/…`, and the
 *   control plane's under their old name, which `import --adopt` reads (granted by
 *   `iam-policy --bundle-name`, with the template the import tests use). Conditions (tags) are
 *   not evaluated here.
 * Each line of the record is `service:Action`, then for a call naming one secret a tab and its ARN.
 * vitest only logs an error thrown from a globalSetup teardown ("error during close") and still
 * exits 0 (vitest 4.1: Vitest.close collects teardown errors and prints them), so the teardown sets
 * process.exitCode = 1 itself before throwing; the run's own exit code was set earlier and is not
 * overwritten afterwards, so `npm test` fails (checked by removing one table row once).
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { ACTION_RECORD_ENV } from '../support/aws-proxy/action-record.js';
import { AWS_ACTIONS, iamActionName } from '../../src/iam/actions.js';
import { grantedActions, iamPolicy, type PolicyDocument } from '../../src/iam/policy.js';
import { CP_BUNDLE_TEMPLATE } from '../support/control-plane-seed.js';

const testRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function allTestFiles(): string[] {
  return (readdirSync(testRoot, { recursive: true }) as string[]).filter((f) => f.endsWith('.test.ts'));
}

/** The policy the suite's calls are checked against: what an operator importing with the tests' template prints. */
export const RECORD_POLICY: PolicyDocument = iamPolicy({ bundleName: CP_BUNDLE_TEMPLATE });

/**
 * The comparison itself, pure, so a unit test can check its verdicts. `recorded` holds record
 * lines: `service:Action`, or `service:Action<TAB>arn` for a call on one resource.
 */
export function compareRecord(recorded: ReadonlySet<string>, fullSuite: boolean, doc: PolicyDocument = RECORD_POLICY): { missing: string[]; unused: string[] } {
  const granted = grantedActions(doc);
  const implied = new Set(AWS_ACTIONS.filter((a) => a.implied).map(iamActionName));
  const lines = [...recorded].map((l) => l.split('\t') as [string, string?]);
  const actions = new Set(lines.map(([action]) => action));
  const missing = [...actions].filter((a) => !granted.has(a));
  for (const [action, arn] of lines) {
    if (arn !== undefined && granted.has(action) && !grantsOn(doc, action, arn)) missing.push(`${action} on ${arn}`);
  }
  const unused = fullSuite ? [...granted].filter((a) => !actions.has(a) && !implied.has(a)).sort() : [];
  return { missing: [...new Set(missing)].sort(), unused };
}

/** Whether a statement granting `action` names `arn` among its resources (IAM's `*` and `?` wildcards). */
export function grantsOn(doc: PolicyDocument, action: string, arn: string): boolean {
  return doc.Statement.some((s) => s.Action.includes(action) && (Array.isArray(s.Resource) ? s.Resource : [s.Resource]).some((r) => arnMatches(r, arn)));
}

function arnMatches(pattern: string, arn: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replaceAll('*', '.*')
    .replaceAll('?', '.');
  return new RegExp(`^${re}$`).test(arn);
}

export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'tenantform-iam-record-'));
  const file = join(dir, 'actions.txt');
  writeFileSync(file, '');
  process.env[ACTION_RECORD_ENV] = file;
  return () => {
    const recorded = new Set(readFileSync(file, 'utf8').split('\n').filter(Boolean));
    rmSync(dir, { recursive: true, force: true });
    const ran = project.vitest.state.getTestModules().length;
    const fullSuite = ran >= allTestFiles().length;
    const { missing, unused } = compareRecord(recorded, fullSuite);
    const problems = [
      ...(missing.length
        ? [`made by tenantform but not granted by iam-policy (add the action to src/iam/actions.ts, or the resource to src/iam/policy.ts): ${missing.join(', ')}`]
        : []),
      ...(unused.length ? [`granted by iam-policy but never made by the whole test suite (drop them, or test the path that makes them): ${unused.join(', ')}`] : []),
    ];
    if (problems.length) {
      process.exitCode = 1;
      throw new Error(`IAM policy check failed:\n  ${problems.join('\n  ')}`);
    }
    process.stderr.write(
      `IAM policy check: ${new Set([...recorded].map((l) => l.split('\t')[0])).size} AWS actions made, all granted${fullSuite ? '; every granted action was made' : ' (subset run: unused grants not checked)'}.\n`,
    );
  };
}
