import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import type { Plan } from '../../src/plan/model.js';
import { APP_DOMAIN, startLiveHarness, type LiveHarness } from '../live/harness.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const dirs: string[] = [];
function emptyDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tenantform-init-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function run(args: string[], cwd: string, env: Record<string, string> = {}) {
  const io = memoryIo({ env, cwd });
  const code = await main(args, io);
  return { code, out: io.out.join(''), err: io.err.join('') };
}

function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(join(d, e.name), r);
      else out.push(r);
    }
  };
  walk(dir, '');
  return out.sort();
}

const SCAFFOLD = [
  '.github/workflows/apply.yml',
  '.github/workflows/plan.yml',
  '.github/workflows/sweep.yml',
  '.gitignore',
  'CODEOWNERS',
  'README.md',
  'fleet.yaml',
  'schemas/fleet.schema.json',
  'schemas/tenant.schema.json',
  'schemas/workspace.schema.json',
  'tenants/.gitkeep',
];

describe('tenantform init', () => {
  it('scaffolds a fleet repository that validates with --allow-empty', async () => {
    const parent = emptyDir();
    const { code, out } = await run(['init', 'fleet'], parent);
    expect(code).toBe(0);
    expect(out).toContain('Scaffolded a fleet repository');
    const dir = join(parent, 'fleet');
    expect(tree(dir)).toEqual(SCAFFOLD);
    for (const name of ['apply.yml', 'plan.yml', 'sweep.yml']) {
      expect(readFileSync(join(dir, '.github/workflows', name), 'utf8')).toBe(readFileSync(join(repoRoot, 'workflows', name), 'utf8'));
    }
    expect(readFileSync(join(dir, '.gitignore'), 'utf8').split('\n')).toContain('.tenantform/');
    expect(readFileSync(join(dir, 'fleet.yaml'), 'utf8')).toContain('# yaml-language-server: $schema=./schemas/fleet.schema.json\n');
    const v = await run(['validate', '--allow-empty'], dir);
    expect(v.err).toBe('');
    expect(v.out).toBe('The fleet is valid: 0 tenants, 0 workspaces.\n');
    expect(v.code).toBe(0);
  });

  it('describes every fleet.yaml field, and the commented-out ones are valid as written', async () => {
    const dir = emptyDir();
    expect((await run(['init', '--environment', 'staging'], dir)).code).toBe(0);
    const text = readFileSync(join(dir, 'fleet.yaml'), 'utf8');
    const afterRequired = text.slice(text.indexOf('tenantImage:'));
    // A commented field is `# key: …` (or a `# - {…}` list item); prose never starts with `word:`.
    const uncommented = text.slice(0, text.indexOf('tenantImage:')) + afterRequired.replace(/^# ( *(?:[A-Za-z0-9-]+:(?: |$)|- \{))/gm, '$1');
    const fleet = parseYaml(uncommented) as Record<string, unknown>;
    const schema = JSON.parse(readFileSync(join(repoRoot, 'schemas/fleet.schema.json'), 'utf8')) as { properties: Record<string, unknown> };
    expect(Object.keys(fleet).sort()).toEqual(Object.keys(schema.properties).sort());
    expect(fleet.environment).toBe('staging');
    writeFileSync(join(dir, 'fleet.yaml'), uncommented);
    const v = await run(['validate', '--allow-empty', '--json'], dir);
    expect((JSON.parse(v.out) as { diagnostics: unknown[] }).diagnostics).toEqual([]);
    expect(v.code).toBe(0);
  });

  it('works from the built CLI (the workflows and schemas are found from dist/)', async () => {
    const dir = emptyDir();
    const bin = join(repoRoot, 'bin/tenantform.js');
    const code = await new Promise<number>((done) => {
      execFile(process.execPath, [bin, 'init', dir], { env: { PATH: process.env.PATH ?? '' } }, (err) => done(typeof err?.code === 'number' ? err.code : err ? -1 : 0));
    });
    expect(code).toBe(0);
    expect(tree(dir)).toEqual(SCAFFOLD);
  });

  for (const existing of ['fleet.yaml', 'tenants/acme/tenant.yaml', '.github/workflows/plan.yml', 'README.md']) {
    it(`refuses when ${existing} exists: exit 1, it is untouched and nothing else is written`, async () => {
      const dir = emptyDir();
      mkdirSync(join(dir, existing, '..'), { recursive: true });
      writeFileSync(join(dir, existing), 'mine\n');
      const before = tree(dir);
      const { code, err, out } = await run(['init'], dir);
      expect(code).toBe(1);
      expect(out).toBe('');
      expect(err).toContain('nothing was written');
      expect(err).toContain(existing.startsWith('tenants/') ? '  tenants\n' : `  ${existing}\n`);
      expect(tree(dir)).toEqual(before);
      expect(readFileSync(join(dir, existing), 'utf8')).toBe('mine\n');
    });
  }

  it('runs in a folder holding other things (a fresh clone’s .git)', async () => {
    const dir = emptyDir();
    mkdirSync(join(dir, '.git'));
    writeFileSync(join(dir, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    expect((await run(['init'], dir)).code).toBe(0);
    expect(tree(dir)).toEqual(['.git/HEAD', ...SCAFFOLD].sort());
  });
});

describe('plan --allow-empty on a new fleet against an empty account', () => {
  let h: LiveHarness | undefined;
  beforeAll(async () => {
    h = await startLiveHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('has nothing to do: exit 0, no action', async () => {
    const dir = emptyDir();
    expect((await run(['init', '--app-domain', APP_DOMAIN, '--region', h!.env.AWS_REGION!], dir)).code).toBe(0);
    const { code, out, err } = await run(['plan', '--allow-empty', '--json'], dir, h!.env);
    expect(err).toBe('');
    expect(code).toBe(0);
    const plan = JSON.parse(out) as Plan;
    expect(plan.actions).toEqual([]);
  });
});
