import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { compilerOptions, findUntypedThrows, type Finding } from './typed-throws.js';

const SRC = resolve('src');
const ERRORS = join(SRC, 'errors.ts');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? sourceFiles(join(dir, d.name)) : d.name.endsWith('.ts') && !d.name.endsWith('.d.ts') ? [join(dir, d.name)] : [],
  );
}

/** A program of `errors.ts` plus one in-memory file placed in src/, so its imports resolve as real code's do. */
function programWith(fixture: string, text: string, old?: ts.Program): ts.Program {
  const options = compilerOptions();
  const host = ts.createCompilerHost(options);
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (f) => f === fixture || fileExists.call(host, f);
  host.readFile = (f) => (f === fixture ? text : readFile.call(host, f));
  host.getSourceFile = (f, lang, ...rest) => (f === fixture ? ts.createSourceFile(f, text, lang) : getSourceFile.call(host, f, lang, ...rest));
  return ts.createProgram({ rootNames: [ERRORS, fixture], options, host, ...(old ? { oldProgram: old } : {}) });
}

describe('every error thrown in src/ is a TenantformError', () => {
  let files: string[];
  let program: ts.Program;
  beforeAll(() => {
    files = sourceFiles(SRC);
    program = ts.createProgram({ rootNames: files, options: compilerOptions() });
  });

  it('finds no untyped throw, rejection, built-in error, Error subclass or node:assert in src/', () => {
    expect(files.length).toBeGreaterThan(50);
    const findings = findUntypedThrows(program, files, ERRORS).map((f) => `${f.file.slice(SRC.length + 1)}:${f.line} [${f.rule}] ${f.text}`);
    expect(findings).toEqual([]);
  });

  it('would catch each way of adding an untyped error (the checker checks itself)', () => {
    const fixture = join(SRC, '__typed_throws_fixture__.ts');
    const lines = [
      "import { strict as assert } from 'node:assert';", // 1 assert
      "import { CloudError, InputError, InternalError, TenantformError } from './errors.js';",
      'class Local extends Error {}', // 3 extends-error
      'class Typed extends InternalError {}',
      'const E = Error;',
      'function fail(): Error { return new E("x"); }', // 6 new-builtin-error (aliased)
      'export async function f(n: number, u: unknown): Promise<void> {',
      '  if (n === 1) throw new Error("plain");', // 8 throw + new-builtin-error
      '  if (n === 2) throw new TypeError(`typed ${n}`);', // 9 throw + new-builtin-error
      '  if (n === 3) throw fail();', // 10 throw
      "  if (n === 4) throw 'a string';", // 11 throw
      '  if (n === 5) throw u as InputError;', // 12 throw (a cast proves nothing)
      '  if (n === 6) throw new Local();', // 13 throw + new-builtin-error
      '  if (n === 7) await Promise.reject(new RangeError("r"));', // 14 reject + new-builtin-error
      "  if (n === 8) assert.ok(false, 'x');",
      "  if (n === 9) throw new InputError('ok', { operation: 'o' });",
      "  if (n === 10) throw new Typed('ok', { operation: 'o' });",
      "  const made: TenantformError | CloudError = new CloudError('ok', { operation: 'o' });",
      '  if (n === 11) throw made;',
      '  try { await g(); } catch (e) { if (n === 12) throw e; }',
      '  await g().catch((e: unknown) => { throw e; });',
      '  await g().then(undefined, (e: unknown) => { throw e; });',
      '  await g().then((v: unknown) => { throw v; });', // 23 throw (a fulfilment value is no caught error)
      "  if (n === 13) await Promise.reject(new InternalError('ok', { operation: 'o' }));",
      '  let kept: unknown;',
      '  try { await g(); } catch (e) { kept = e; }',
      '  throw kept;', // 27 throw (only the catch variable itself is a rethrow)
      '}',
      'async function g(): Promise<void> {}',
    ];
    const p = programWith(fixture, lines.join('\n'), program);
    const found = findUntypedThrows(p, [fixture], ERRORS).map((f: Finding) => `${f.line} ${f.rule}`);
    expect(found.sort()).toEqual(
      [
        '1 assert',
        '3 extends-error',
        '6 new-builtin-error',
        '8 throw',
        '8 new-builtin-error',
        '9 throw',
        '9 new-builtin-error',
        '10 throw',
        '11 throw',
        '12 throw',
        '13 throw',
        '13 new-builtin-error',
        '14 reject',
        '14 new-builtin-error',
        '23 throw',
        '27 throw',
      ].sort(),
    );
  });
});
