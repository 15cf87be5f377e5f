import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleGit } from 'simple-git';
import { afterAll, describe, expect, it } from 'vitest';
import { memoryIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { BASE_FILES, makeFleet, removeFleets } from '../desired/fleet-fixture.js';
import { fakes, privateKeys } from '../desired/secret-fakes.js';

afterAll(removeFleets);

const T = 'tenants/acme/tenant.yaml';

async function validate(dir: string, ...args: string[]) {
  const io = memoryIo({ env: {}, cwd: dir });
  const code = await main(['validate', ...args], io);
  return { code, text: io.out.join('') + io.err.join('') };
}

const FORMATS: string[][] = [[], ['--json'], ['--format', 'github']];

describe('validate rejects credentials anywhere in the fleet repository', () => {
  const all = fakes();
  const byName = (prefix: string) => all.find((f) => f.name.startsWith(prefix))!;
  const aws = byName('AWS access key');
  const ghcr = byName('GHCR');
  const cloudflare = byName('Cloudflare API token (by keyword)');
  const rest = all.filter((f) => f !== aws && f !== ghcr && f !== cloudflare);
  const key = privateKeys()[1]!;
  // Values, comments, and files tenantform does not read itself.
  const files = {
    'fleet.yaml': `${BASE_FILES['fleet.yaml']}# ${aws.line}\n`,
    [T]: `${BASE_FILES[T]}# ${ghcr.line}\n`,
    'README.md': `# Fleet\n\n${cloudflare.line}\n`,
    'ops/notes.txt': `${rest.map((f) => f.line).join('\n')}\n`,
    'keys/deploy.pem': key.pem,
  };

  for (const format of FORMATS) {
    it(`exits 1, names file:line:col and rule, and never prints a value (${format.join(' ') || 'text'})`, async () => {
      const dir = makeFleet(files);
      const { code, text } = await validate(dir, ...format);
      expect(code).toBe(1);
      for (const f of all) expect(text).not.toContain(f.value);
      for (const line of key.pem.split('\n').filter((l) => l.length > 20)) expect(text).not.toContain(line);
      if (format[0] === '--json') {
        const report = JSON.parse(text) as { valid: boolean; diagnostics: Array<{ file: string; line: number; col: number; path: string; severity: string }> };
        expect(report.valid).toBe(false);
        const where = report.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.file}:${d.line}:${d.col}`);
        expect(where).toEqual([
          'README.md:3:' + cloudflare.col,
          `fleet.yaml:${BASE_FILES['fleet.yaml']!.split('\n').length}:${aws.col + 2}`,
          'keys/deploy.pem:1:1',
          ...rest.map((f, i) => `ops/notes.txt:${i + 1}:${f.col}`),
          `${T}:5:${ghcr.col + 2}`,
        ]);
        expect(report.diagnostics.find((d) => d.file === T)?.path).toBe('@secretlint/secretlint-rule-github');
      } else if (format[0] === '--format') {
        expect(text).toContain(`::error file=${T},line=5,col=${ghcr.col + 2},title=@secretlint/secretlint-rule-github::This looks like a GitHub token`);
      } else {
        expect(text).toContain(`${T}:5:${ghcr.col + 2}  @secretlint/secretlint-rule-github  This looks like a GitHub token`);
        expect(text).toContain('README.md:3:');
        expect(text).toContain('keys/deploy.pem:1:1  tenantform/private-key  This looks like a private key');
      }
    });
  }

  it('scrubs the value from other diagnostics that quote the same field', async () => {
    const token = all.find((f) => f.name === 'GitHub classic token')!.value; // where an image belongs: an image warning would quote it
    const dir = makeFleet({ 'fleet.yaml': BASE_FILES['fleet.yaml']!.replace('ghcr.io/example/platform:1.4.2', token) });
    for (const format of FORMATS) {
      const { code, text } = await validate(dir, ...format);
      expect(code).toBe(1);
      if (format.length === 0) expect(text).toContain('fleet.yaml:6:14');
      expect(text).not.toContain(token);
    }
  });

  it('scans what git would commit: an ignored .env is not the repository’s, an untracked file is', async () => {
    const dir = makeFleet({ '.gitignore': '.env\n', '.env': `${all[0]!.line}\n` });
    const git = simpleGit({ baseDir: dir });
    await git.init();
    expect((await validate(dir)).code).toBe(0);
    writeFileSync(join(dir, 'draft.yaml'), `${all[1]!.line}\n`);
    const { code, text } = await validate(dir);
    expect(code).toBe(1);
    expect(text).toContain('draft.yaml:1:');
    expect(text).not.toContain('.env');
  });

  it('lets .secretlintignore exempt other files, never fleet.yaml or tenants/', async () => {
    const dir = makeFleet({
      '.secretlintignore': 'fixtures/\nfleet.yaml\ntenants/\n',
      'fixtures/fake.txt': `${all[0]!.line}\n`,
      [T]: `${BASE_FILES[T]}# ${all[4]!.line}\n`,
    });
    const { code, text } = await validate(dir);
    expect(code).toBe(1);
    expect(text).not.toContain('fixtures/fake.txt');
    expect(text).toContain(`${T}:5:`);
  });

  it('passes a clean repository with ids, AMIs, digests and pinned actions in it', async () => {
    const dir = makeFleet({
      'fleet.yaml': `${BASE_FILES['fleet.yaml']}# digest ghcr.io/example/platform@sha256:9b2f7c3e1a4d5b6c7d8e9f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e\n`,
      'README.md': '# Fleet\nAccount 023e105f4ecef8ad9ca31a8372d0c353, commit 9e986be2c1f4a8d3b7e6f5a4c3b2a1908f7e6d5c, ami-0123456789abcdef0.\n',
    });
    mkdirSync(join(dir, 'empty'));
    const { code, text } = await validate(dir);
    expect(text).toContain('The fleet is valid');
    expect(code).toBe(0);
  });
});
