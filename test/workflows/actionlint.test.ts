import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ACTIONLINT_VERSION, actionlint, ensureActionlint } from '../support/actionlint.js';
import { spawnSync } from 'node:child_process';

const workflowsDir = fileURLToPath(new URL('../../workflows/', import.meta.url));
const WORKFLOWS = ['apply.yml', 'plan.yml', 'sweep.yml'];
const tmp = mkdtempSync(join(tmpdir(), 'tenantform-actionlint-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe(`the workflows pass actionlint ${ACTIONLINT_VERSION}`, () => {
  it('ships exactly the three workflows', () => {
    expect(readdirSync(workflowsDir).sort()).toEqual(WORKFLOWS);
  });

  it('runs the pinned actionlint', () => {
    const r = spawnSync(ensureActionlint(), ['-version'], { encoding: 'utf8' });
    expect(r.stdout.split('\n')[0]).toBe(ACTIONLINT_VERSION);
  });

  for (const name of WORKFLOWS) {
    it(`${name} has no finding (with shellcheck on its run: scripts when installed)`, () => {
      const r = actionlint([join(workflowsDir, name)]);
      expect(r.output).toBe('');
      expect(r.code).toBe(0);
    });
  }

  it('catches a broken workflow: a bad cron expression fails the check', () => {
    const broken = join(tmp, 'sweep.yml');
    const text = readFileSync(join(workflowsDir, 'sweep.yml'), 'utf8');
    expect(text).toContain("cron: '17 5 * * *'");
    writeFileSync(broken, text.replace("cron: '17 5 * * *'", "cron: '61 5 * * *'"));
    const r = actionlint([broken]);
    expect(r.code).toBe(1);
    expect(r.output).toMatch(/invalid CRON format/i);
  });

  it('pins every action to a full commit SHA with a version comment', () => {
    for (const name of WORKFLOWS) {
      const uses = readFileSync(join(workflowsDir, name), 'utf8')
        .split('\n')
        .filter((l) => /^\s*(?:-\s+)?uses:/.test(l));
      expect(uses.length, name).toBeGreaterThan(0);
      for (const line of uses) expect(line, `${name}: ${line}`).toMatch(/uses: [\w.-]+\/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
    }
  });
});
