/**
 * vitest globalSetup: the IAM policy check over the whole suite. Setup points every worker (and so
 * every fault proxy) at one record file (TENANTFORM_AWS_ACTION_RECORD, inherited by the forked
 * workers); teardown runs once after every test file has finished and compares what the product
 * actually called with what `tenantform iam-policy` grants (src/iam/policy.ts):
 * - an action made but not granted fails the run (always: a subset of the suite proves it too);
 * - an action granted but never made fails the run when the whole suite ran (a subset of the
 *   files cannot tell), except actions IAM checks without an API call of their own (iam:PassRole).
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
import { grantedActions, iamPolicy } from '../../src/iam/policy.js';

const testRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function allTestFiles(): string[] {
  return (readdirSync(testRoot, { recursive: true }) as string[]).filter((f) => f.endsWith('.test.ts'));
}

/** The comparison itself, pure, so a unit test can check its verdicts. */
export function compareRecord(recorded: ReadonlySet<string>, fullSuite: boolean): { missing: string[]; unused: string[] } {
  const granted = grantedActions(iamPolicy());
  const implied = new Set(AWS_ACTIONS.filter((a) => a.implied).map(iamActionName));
  const missing = [...recorded].filter((a) => !granted.has(a)).sort();
  const unused = fullSuite ? [...granted].filter((a) => !recorded.has(a) && !implied.has(a)).sort() : [];
  return { missing, unused };
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
      ...(missing.length ? [`made by tenantform but not granted by iam-policy (add them to src/iam/actions.ts): ${missing.join(', ')}`] : []),
      ...(unused.length ? [`granted by iam-policy but never made by the whole test suite (drop them, or test the path that makes them): ${unused.join(', ')}`] : []),
    ];
    if (problems.length) {
      process.exitCode = 1;
      throw new Error(`IAM policy check failed:\n  ${problems.join('\n  ')}`);
    }
    process.stderr.write(
      `IAM policy check: ${recorded.size} AWS actions made, all granted${fullSuite ? '; every granted action was made' : ' (subset run: unused grants not checked)'}.\n`,
    );
  };
}
