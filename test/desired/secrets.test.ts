import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findSecrets } from '../../src/desired/secrets.js';
import { shannonEntropy } from '../../src/desired/secret-rules.js';
import { fakes, NOT_SECRETS, privateKeys, randomFrom } from './secret-fakes.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

function columnOf(text: string, index: number): { line: number; col: number } {
  const before = text.slice(0, index).split('\n');
  return { line: before.length, col: before.at(-1)!.length + 1 };
}

describe('the secret rules', () => {
  for (const f of fakes()) {
    it(`finds ${f.name}, once, where it starts`, async () => {
      const text = `apiVersion: tenantform.dev/v1\nkind: Fleet\n${f.line}\n`;
      const hits = await findSecrets('fleet.yaml', text);
      expect(hits).toHaveLength(1);
      expect(columnOf(text, hits[0]!.index)).toEqual({ line: 3, col: f.col });
      expect(text.slice(hits[0]!.index, hits[0]!.index + hits[0]!.length)).toContain(f.value.slice(0, 20));
    });
  }

  for (const k of privateKeys()) {
    it(`finds a ${k.name} private key`, async () => {
      const text = `# deploy key\n${k.pem}`;
      const hits = await findSecrets('README.md', text);
      expect(hits).toHaveLength(1);
      expect(columnOf(text, hits[0]!.index)).toEqual({ line: 2, col: 1 });
    });
  }

  for (const n of NOT_SECRETS) {
    it(`leaves alone: ${n.name}`, async () => {
      expect(await findSecrets('fleet.yaml', `${n.line}\n`)).toEqual([]);
    });
  }

  it('finds nothing in the example fleet repository (fleet.yaml and tenants/)', async () => {
    const files: string[] = [join(repoRoot, 'fleet.yaml')];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir)) {
        const p = join(dir, e);
        if (statSync(p).isDirectory()) walk(p);
        else files.push(p);
      }
    };
    walk(join(repoRoot, 'tenants'));
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) expect(await findSecrets(relative(repoRoot, f), readFileSync(f, 'utf8')), f).toEqual([]);
  });

  it('keeps a random hex key above the hex threshold and English well below the base64 one', () => {
    expect(shannonEntropy(randomFrom('0123456789abcdef', 64))).toBeGreaterThan(3.0);
    expect(shannonEntropy('ProvisionSharedSecretForTheControlPlane')).toBeLessThan(4.3);
  });
});
