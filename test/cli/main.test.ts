import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { memoryIo } from '../../src/cli/io.js';

describe('tenantform CLI entry', () => {
  it('prints the version from package.json', async () => {
    const io = memoryIo();
    expect(await main(['--version'], io)).toBe(0);
    expect(io.out.join('')).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('rejects an unknown flag with one line and exit code 1', async () => {
    const io = memoryIo();
    expect(await main(['--bogus'], io)).toBe(1);
    expect(io.err.join('').trim().split('\n')).toHaveLength(1);
    expect(io.err.join('')).toContain("unknown option '--bogus'");
  });

  it('states each default once in help (history --limit)', async () => {
    const io = memoryIo();
    expect(await main(['history', '--help'], io)).toBe(0);
    const help = io.out.join('');
    expect(help.match(/\(default:? 50\)/g)).toEqual(['(default: 50)']);
  });
});
