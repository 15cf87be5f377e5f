/**
 * Finds untyped throws in src/ with the TypeScript compiler (parser and type checker), so the
 * rule "every error thrown in src/ is a TenantformError" is checked by what the code means, not
 * by how it is spelled: `throw new Error(…)`, `throw fail()` where fail returns an Error, a
 * `class X extends Error`, `Promise.reject(new TypeError(…))` and node:assert all count, however
 * they are formatted or aliased.
 *
 * What is allowed: throwing (or rejecting with) a value whose static type derives from
 * TenantformError, and rethrowing the value a `catch` clause or a rejection handler (`.catch(e =>
 * …)`, `.then(_, e => …)`) received — a rethrow passes on what a callee threw, and every callee in
 * src/ is held to this same rule (SDK errors are wrapped where the SDK is called: apply/cloud.ts,
 * the live readers, the store).
 */
import ts from 'typescript';

export interface Finding {
  file: string;
  line: number;
  rule: 'throw' | 'reject' | 'new-builtin-error' | 'extends-error' | 'assert';
  text: string;
}

const BUILTIN_ERRORS = new Set(['Error', 'TypeError', 'RangeError', 'SyntaxError', 'ReferenceError', 'EvalError', 'URIError', 'AggregateError']);
const ASSERT_MODULES = new Set(['assert', 'node:assert', 'assert/strict', 'node:assert/strict']);

export function compilerOptions(): ts.CompilerOptions {
  const configPath = ts.findConfigFile(process.cwd(), ts.sys.fileExists, 'tsconfig.json');
  if (!configPath) throw new Error('tsconfig.json not found');
  const parsed = ts.parseJsonConfigFileContent(ts.readConfigFile(configPath, ts.sys.readFile).config, ts.sys, process.cwd());
  return { ...parsed.options, noEmit: true };
}

/**
 * Checks `files` of `program`. `errorsFile` is the source file declaring TenantformError
 * (src/errors.ts), which must be part of the program.
 */
export function findUntypedThrows(program: ts.Program, files: readonly string[], errorsFile: string): Finding[] {
  const checker = program.getTypeChecker();
  const errorsSource = program.getSourceFile(errorsFile);
  if (!errorsSource) throw new Error(`${errorsFile} is not in the program`);
  const base = errorsSource.statements.find((s): s is ts.ClassDeclaration => ts.isClassDeclaration(s) && s.name?.text === 'TenantformError');
  const baseSymbol = base?.name && checker.getSymbolAtLocation(base.name);
  if (!baseSymbol) throw new Error(`${errorsFile} declares no class TenantformError`);

  // Class hierarchies are acyclic (the compiler refuses a cycle), so the walk ends.
  const derivesFromBase = (t: ts.Type): boolean => {
    if (t.isUnion()) return t.types.every(derivesFromBase);
    if (t.isIntersection()) return t.types.some(derivesFromBase);
    const sym = t.getSymbol();
    if (!sym) return false;
    if (sym === baseSymbol) return true;
    if (!(sym.flags & ts.SymbolFlags.Class)) return false;
    const declared = checker.getDeclaredTypeOfSymbol(sym);
    if (!declared.isClassOrInterface()) return false;
    return (checker.getBaseTypes(declared) ?? []).some(derivesFromBase);
  };

  const derivesFromBuiltinError = (t: ts.Type): boolean => {
    const sym = t.getSymbol();
    if (!sym) return false;
    if (BUILTIN_ERRORS.has(sym.getName()) && sym.declarations?.some((d) => d.getSourceFile().hasNoDefaultLib)) return true;
    if (!(sym.flags & ts.SymbolFlags.Class)) return false;
    const declared = checker.getDeclaredTypeOfSymbol(sym);
    return declared.isClassOrInterface() && (checker.getBaseTypes(declared) ?? []).some(derivesFromBuiltinError);
  };

  /** An identifier naming a catch clause's variable or a rejection handler's parameter. */
  const isCaughtValue = (e: ts.Expression): boolean => {
    const expr = skipParens(e);
    if (!ts.isIdentifier(expr)) return false;
    const decl = checker.getSymbolAtLocation(expr)?.valueDeclaration;
    if (!decl) return false;
    if (ts.isVariableDeclaration(decl) && ts.isCatchClause(decl.parent)) return true;
    if (!ts.isParameter(decl)) return false;
    const fn = decl.parent;
    if (!(ts.isArrowFunction(fn) || ts.isFunctionExpression(fn)) || fn.parameters[0] !== decl) return false;
    const call = fn.parent;
    if (!ts.isCallExpression(call) || !ts.isPropertyAccessExpression(call.expression)) return false;
    const method = call.expression.name.text;
    const index = call.arguments.indexOf(fn);
    return (method === 'catch' && index === 0) || (method === 'then' && index === 1);
  };

  // Casts are looked through: `throw e as InputError` is as untyped as `e`.
  const typed = (e: ts.Expression): boolean => isCaughtValue(e) || derivesFromBase(checker.getTypeAtLocation(skipParens(e)));

  const findings: Finding[] = [];
  for (const file of files) {
    const sf = program.getSourceFile(file);
    if (!sf) throw new Error(`${file} is not in the program`);
    const report = (node: ts.Node, rule: Finding['rule']) =>
      findings.push({ file, line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1, rule, text: node.getText(sf).split('\n')[0]!.slice(0, 120) });
    const visit = (node: ts.Node): void => {
      if (ts.isThrowStatement(node) && !typed(node.expression)) report(node, 'throw');
      if (ts.isCallExpression(node) && isPromiseReject(node) && !(node.arguments[0] && typed(node.arguments[0]))) report(node, 'reject');
      if (ts.isNewExpression(node) && derivesFromBuiltinError(checker.getTypeAtLocation(node)) && !derivesFromBase(checker.getTypeAtLocation(node))) {
        report(node, 'new-builtin-error');
      }
      if ((ts.isClassDeclaration(node) || ts.isClassExpression(node)) && node.heritageClauses) {
        const declared = checker.getTypeAtLocation(node.name ?? node);
        const instance = declared.isClassOrInterface() ? declared : checker.getDeclaredTypeOfSymbol(declared.getSymbol()!);
        if (derivesFromBuiltinError(instance) && !derivesFromBase(instance)) report(node.name ?? node, 'extends-error');
      }
      if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier) && ASSERT_MODULES.has(node.moduleSpecifier.text)) report(node, 'assert');
      if (
        ts.isCallExpression(node) &&
        ts.isIdentifier(node.expression) &&
        node.expression.text === 'require' &&
        node.arguments[0] &&
        ts.isStringLiteral(node.arguments[0]) &&
        ASSERT_MODULES.has(node.arguments[0].text)
      ) {
        report(node, 'assert');
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return findings;
}

function skipParens(e: ts.Expression): ts.Expression {
  while (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isTypeAssertionExpression(e) || ts.isSatisfiesExpression(e) || ts.isNonNullExpression(e))
    e = e.expression;
  return e;
}

function isPromiseReject(call: ts.CallExpression): boolean {
  const callee = call.expression;
  return ts.isPropertyAccessExpression(callee) && callee.name.text === 'reject' && ts.isIdentifier(callee.expression) && callee.expression.text === 'Promise';
}
