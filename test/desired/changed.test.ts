import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { memoryIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { changedScope, scopeOfFiles } from '../../src/desired/changed.js';
import { commitAll } from '../live/fleet.js';

describe('scopeOfFiles', () => {
  it('maps tenant files to their slug and ignores files that do not shape the desired state', () => {
    expect(scopeOfFiles(['tenants/acme/tenant.yaml', 'tenants/acme/workspaces/a.yaml', 'tenants/globex/workspaces/b.yaml', 'README.md', 'tenants/README.md'])).toEqual({
      all: false,
      slugs: ['acme', 'globex'],
      files: ['README.md', 'tenants/README.md', 'tenants/acme/tenant.yaml', 'tenants/acme/workspaces/a.yaml', 'tenants/globex/workspaces/b.yaml'],
    });
  });

  it('widens to every tenant for a fleet.yaml change', () => {
    expect(scopeOfFiles(['fleet.yaml', 'tenants/acme/tenant.yaml'])).toMatchObject({ all: true, slugs: ['acme'] });
  });
});

describe('changedScope (git)', () => {
  const root = mkdtempSync(join(tmpdir(), 'tenantform-changed-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('sees committed, unstaged, deleted and untracked changes, relative to a fleet in a subdirectory', async () => {
    const fleet = join(root, 'infra', 'fleet');
    for (const slug of ['acme', 'globex', 'initech']) {
      mkdirSync(join(fleet, 'tenants', slug), { recursive: true });
      writeFileSync(join(fleet, 'tenants', slug, 'tenant.yaml'), `slug: ${slug}\n`);
    }
    writeFileSync(join(fleet, 'fleet.yaml'), 'kind: Fleet\n');
    writeFileSync(join(root, 'other.txt'), 'x\n');
    const base = await commitAll(root, 'base');
    writeFileSync(join(fleet, 'tenants', 'acme', 'tenant.yaml'), 'slug: acme\ncanary: true\n');
    await commitAll(root, 'acme becomes a canary');
    rmSync(join(fleet, 'tenants', 'globex'), { recursive: true });
    mkdirSync(join(fleet, 'tenants', 'new co', 'workspaces'), { recursive: true });
    writeFileSync(join(fleet, 'tenants', 'new co', 'workspaces', 'w.yaml'), 'id: x\n');
    writeFileSync(join(root, 'other.txt'), 'y\n');

    expect(await changedScope(fleet, base)).toEqual({
      all: false,
      slugs: ['acme', 'globex', 'new co'],
      files: ['tenants/acme/tenant.yaml', 'tenants/globex/tenant.yaml', 'tenants/new co/workspaces/w.yaml'],
    });
  });

  it('reports an unknown ref as an input error naming it', async () => {
    await expect(changedScope(root, 'does-not-exist')).rejects.toThrow(/does-not-exist/);
  });

  it('never hands git an option: a ref starting with "-" is refused and git writes no file', async () => {
    const target = join(root, 'written-by-git.txt');
    await expect(changedScope(root, `--output=${target}`)).rejects.toThrow(/not a git revision/);
    expect(existsSync(target)).toBe(false);
  });

  it('plan --changed-since with an option or an unresolvable ref exits 1 with one line, before any cloud call', async () => {
    const target = join(root, 'plan-wrote.txt');
    for (const ref of [`--output=${target}`, 'no-such-branch', 'HEAD~999']) {
      const io = memoryIo({ cwd: root, env: { AWS_ENDPOINT_URL: 'http://127.0.0.1:9', CLOUDFLARE_BASE_URL: 'http://127.0.0.1:9' } });
      expect(await main(['plan', `--changed-since=${ref}`], io)).toBe(1);
      const lines = io.err.join('').trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`git ref "${ref}"`);
      expect(io.out.join('')).toBe('');
    }
    expect(existsSync(target)).toBe(false);
  });
});
