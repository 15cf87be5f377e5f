/**
 * src/live observes and never acts. dependency-cruiser (.dependency-cruiser.cjs) keeps it from
 * importing src/apply and the client factories, but it sees modules, not names: `import {
 * RunInstancesCommand } from '@aws-sdk/client-ec2'` is the same edge as importing
 * DescribeInstancesCommand. This test is the named half, read with the TypeScript compiler:
 * - every `*Command` imported from `@aws-sdk/*` in src/live is a read (Describe/List/Get...);
 *   namespace, default and dynamic imports of `@aws-sdk/*` are refused, since they hide the names;
 * - every call into the AWS or Cloudflare SDK made in src/live (resolved with the type checker, so
 *   `cf.client.dns.records.create(...)` is caught whatever the variable is called) is a read.
 * Each check is first shown to catch a planted violation, then run over the real src/live.
 */
import { readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const LIVE = join(ROOT, 'src', 'live');

/** A read: the only AWS commands src/live may construct. Anything else (Create, Delete, Run, Terminate, Start, Stop, Modify, Authorize, Revoke, Put, Update, Tag, Untag, Send, Restore, ...) mutates. */
const READ_COMMAND = /^(Describe|List|Get)[A-Z]\w*Command$/;
/** Read methods of the SDK clients: AWS `send` (what it sends is checked by name), Cloudflare list/get, AWS paginators and aggregated-client reads. */
const READ_METHOD = /^(send|list|get|(describe|list|get|paginateDescribe|paginateList|paginateGet)[A-Z]\w*)$/;
const SDK_FILE = /[\\/]node_modules[\\/](@aws-sdk|@smithy|cloudflare)[\\/]/;
const AWS_SDK = /^@aws-sdk\//;

export interface Finding {
  file: string;
  line: number;
  what: string;
}

function at(sf: ts.SourceFile, node: ts.Node, what: string): Finding {
  return { file: relative(ROOT, sf.fileName), line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1, what };
}

/** Syntactic: the names imported from the AWS SDK. */
function importFindings(sf: ts.SourceFile): Finding[] {
  const out: Finding[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const from = node.moduleSpecifier.text;
      if (AWS_SDK.test(from)) {
        if (ts.isImportDeclaration(node)) {
          const clause = node.importClause;
          const typeOnly = clause?.isTypeOnly ?? false;
          if (clause?.name && !typeOnly) out.push(at(sf, node, `default import from ${from} hides which commands are used`));
          const bindings = clause?.namedBindings;
          if (bindings && ts.isNamespaceImport(bindings) && !typeOnly) out.push(at(sf, node, `namespace import from ${from} hides which commands are used`));
          if (bindings && ts.isNamedImports(bindings)) {
            for (const el of bindings.elements) {
              const name = (el.propertyName ?? el.name).text;
              if (!typeOnly && !el.isTypeOnly && name.endsWith('Command') && !READ_COMMAND.test(name))
                out.push(at(sf, el, `mutating AWS command ${name} imported from ${from}`));
            }
          }
        } else {
          const clause = node.exportClause;
          if (!clause || ts.isNamespaceExport(clause)) out.push(at(sf, node, `re-export of all of ${from}`));
          else
            for (const el of clause.elements) {
              const name = (el.propertyName ?? el.name).text;
              if (!node.isTypeOnly && !el.isTypeOnly && name.endsWith('Command') && !READ_COMMAND.test(name))
                out.push(at(sf, el, `mutating AWS command ${name} re-exported from ${from}`));
            }
        }
      }
    }
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [arg] = node.arguments;
      if (!arg || !ts.isStringLiteral(arg) || AWS_SDK.test(arg.text))
        out.push(at(sf, node, `dynamic import${arg && ts.isStringLiteral(arg) ? ` of ${arg.text}` : ''} hides which commands are used`));
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** Typed: every call or construction whose declaration lives in an SDK package. */
function callFindings(sf: ts.SourceFile, checker: ts.TypeChecker): Finding[] {
  const out: Finding[] = [];
  const sdkDeclaration = (node: ts.Node): boolean => {
    let symbol = checker.getSymbolAtLocation(node);
    if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
    return (symbol?.declarations ?? []).some((d) => SDK_FILE.test(d.getSourceFile().fileName));
  };
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
      const method = node.expression.name;
      if (sdkDeclaration(method) && !READ_METHOD.test(method.text)) out.push(at(sf, node, `mutating SDK call ${node.expression.getText(sf)}(...)`));
    }
    if (ts.isNewExpression(node)) {
      const callee = ts.isPropertyAccessExpression(node.expression) ? node.expression.name : node.expression;
      if (ts.isIdentifier(callee) && sdkDeclaration(callee) && !READ_COMMAND.test(callee.text)) out.push(at(sf, node, `new ${callee.text}(...) in the observe side`));
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

function compilerOptions(): ts.CompilerOptions {
  const parsed = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
  if (!parsed) throw new Error('tsconfig.json could not be read');
  return { ...parsed.options, noEmit: true };
}

/** Checks `files` plus in-memory `extra` files (path -> text: the planted violations) in one program; findings per file. */
function check(files: string[], extra: Record<string, string>): Map<string, Finding[]> {
  const options = compilerOptions();
  const host = ts.createCompilerHost(options, true);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, ...rest) => (name in extra ? ts.createSourceFile(name, extra[name] ?? '', lang, true) : getSourceFile(name, lang, ...rest));
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name in extra || fileExists(name);
  const readFile = host.readFile.bind(host);
  host.readFile = (name) => (name in extra ? extra[name] : readFile(name));
  const roots = [...files, ...Object.keys(extra)];
  // One program for everything: loading the SDKs' declarations is most of the cost.
  const program = ts.createProgram(roots, options, host);
  const checker = program.getTypeChecker();
  return new Map(
    roots.map((f) => {
      const sf = program.getSourceFile(f);
      if (!sf) throw new Error(`not in the program: ${f}`);
      return [f, [...importFindings(sf), ...callFindings(sf, checker)]];
    }),
  );
}

function liveFiles(): string[] {
  return readdirSync(LIVE, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(LIVE, f));
}

// Planted violations, checked in the same program as src/live (they are never written to disk).
const IMPORT_PROBE = join(LIVE, '__probe_imports__.ts');
const CALL_PROBE = join(LIVE, '__probe_calls__.ts');
const PROBES: Record<string, string> = {
  [IMPORT_PROBE]: [
    "import { DescribeInstancesCommand, RunInstancesCommand, type TerminateInstancesCommandInput } from '@aws-sdk/client-ec2';",
    "import { DeleteSecretCommand as Gone } from '@aws-sdk/client-secrets-manager';",
    "import * as ssm from '@aws-sdk/client-ssm';",
    "export { CreateTagsCommand } from '@aws-sdk/client-ec2';",
    'export const probe = [DescribeInstancesCommand, RunInstancesCommand, Gone, ssm, import("@aws-sdk/client-iam")] as unknown as TerminateInstancesCommandInput;',
  ].join('\n'),
  [CALL_PROBE]: [
    "import type Cloudflare from 'cloudflare';",
    "import { EC2Client, DescribeInstancesCommand } from '@aws-sdk/client-ec2';",
    'export async function probe(handle: { client: Cloudflare; zoneId: string }, ec2: EC2Client): Promise<void> {',
    '  await handle.client.dns.records.list({ zone_id: handle.zoneId });',
    "  await handle.client.dns.records.create({ zone_id: handle.zoneId, name: 'x', type: 'A', content: '1.1.1.1', ttl: 1 });",
    "  await handle.client.zeroTrust.tunnels.cloudflared.delete('t', { account_id: 'a' });",
    '  await ec2.send(new DescribeInstancesCommand({}));',
    "  new EC2Client({ region: 'eu-west-1' }).destroy();",
    '}',
  ].join('\n'),
};

describe('src/live makes no mutating cloud call', () => {
  let memo: Map<string, Finding[]> | undefined;
  const findings = (file: string): Finding[] => {
    memo ??= check(liveFiles(), PROBES);
    const found = memo.get(file);
    if (!found) throw new Error(`not checked: ${file}`);
    return found;
  };

  it('catches a planted mutating AWS command, a namespace import, a re-export and a dynamic import', () => {
    const found = findings(IMPORT_PROBE);
    const what = found.map((f) => f.what);
    expect(what).toEqual(
      expect.arrayContaining([
        'mutating AWS command RunInstancesCommand imported from @aws-sdk/client-ec2',
        'mutating AWS command DeleteSecretCommand imported from @aws-sdk/client-secrets-manager',
        'namespace import from @aws-sdk/client-ssm hides which commands are used',
        'mutating AWS command CreateTagsCommand re-exported from @aws-sdk/client-ec2',
        'dynamic import of @aws-sdk/client-iam hides which commands are used',
      ]),
    );
    // Reads and type-only imports are fine.
    expect(what.join('\n')).not.toMatch(/DescribeInstancesCommand|TerminateInstancesCommandInput/);
    expect(found.every((f) => f.file === relative(ROOT, IMPORT_PROBE) && f.line > 0)).toBe(true);
  });

  it('catches a planted mutating call on the Cloudflare and AWS clients, whatever they are called', () => {
    const what = findings(CALL_PROBE).map((f) => f.what);
    expect(what).toEqual(
      expect.arrayContaining([
        'mutating SDK call handle.client.dns.records.create(...)',
        'mutating SDK call handle.client.zeroTrust.tunnels.cloudflared.delete(...)',
        'new EC2Client(...) in the observe side',
      ]),
    );
    expect(what.join('\n')).not.toMatch(/records\.list|ec2\.send|DescribeInstancesCommand/);
  });

  it('holds for every module in src/live', () => {
    const files = liveFiles();
    // The readers module is where the SDKs are called; if it is not scanned the check proves nothing.
    expect(files).toContain(join(LIVE, 'readers.ts'));
    expect(files.flatMap((f) => findings(f))).toEqual([]);
  });
});
