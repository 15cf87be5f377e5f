/**
 * Reading one fleet file safely: bounded size, strict UTF-8, one YAML document, unique keys,
 * bounded alias expansion. Problems become diagnostics at file:line:col; nothing here throws
 * for bad input.
 */
import { readFileSync, statSync } from 'node:fs';
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseAllDocuments, visit, type Document, type Node } from 'yaml';
import { formatPath, type Diagnostic, type DocPath } from './diagnostics.js';

/** Fleet files are a few hundred bytes; anything near this is a mistake or an attack. */
export const MAX_FILE_BYTES = 1024 * 1024;
/** Alias uses (weighted by the size of what they expand to) allowed per file. */
export const MAX_ALIAS_COUNT = 100;

export interface ParsedYaml {
  file: string;
  text: string;
  doc: Document.Parsed;
  lines: LineCounter;
  value: unknown;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function error(file: string, line: number, col: number, path: string, message: string): Diagnostic {
  return { severity: 'error', file, line, col, path, message };
}

/** Reads a regular file of at most MAX_FILE_BYTES as strict UTF-8 (a leading BOM is dropped). */
export function readText(absPath: string, file: string, diagnostics: Diagnostic[]): string | undefined {
  let text: string;
  try {
    const size = statSync(absPath).size;
    if (size > MAX_FILE_BYTES) {
      diagnostics.push(error(file, 1, 1, '', `The file is ${(size / 1024 / 1024).toFixed(1)} MiB; fleet files are limited to 1 MiB.`));
      return undefined;
    }
    const bytes = readFileSync(absPath);
    if (bytes.length > MAX_FILE_BYTES) {
      // It grew between stat and read.
      diagnostics.push(error(file, 1, 1, '', 'The file is over 1 MiB; fleet files are limited to 1 MiB.'));
      return undefined;
    }
    // The lenient decode is node's fastest path; only text that shows a replacement character
    // is decoded again, strictly, to tell a real U+FFFD from invalid input.
    text = bytes.toString('utf8');
    if (text.includes('\uFFFD')) {
      try {
        text = utf8.decode(bytes);
      } catch {
        const { line, col } = firstInvalidUtf8(bytes);
        diagnostics.push(error(file, line, col, '', 'The file is not valid UTF-8; save it with UTF-8 encoding.'));
        return undefined;
      }
    }
  } catch (cause) {
    diagnostics.push(error(file, 1, 1, '', `The file cannot be read (${(cause as NodeJS.ErrnoException).code ?? 'unknown error'}).`));
    return undefined;
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Line and column (in characters) of the first byte that does not start a valid UTF-8 sequence. */
function firstInvalidUtf8(bytes: Uint8Array): { line: number; col: number } {
  let line = 1;
  let col = 1;
  let i = 0;
  while (i < bytes.length) {
    const length = sequenceLength(bytes, i);
    if (length === 0) break;
    if (bytes[i] === 0x0a) {
      line++;
      col = 1;
    } else {
      col++;
    }
    i += length;
  }
  return { line, col };
}

/** Length of the valid UTF-8 sequence at `i`, or 0 when it is invalid (RFC 3629 table 3-7). */
function sequenceLength(b: Uint8Array, i: number): number {
  const b0 = b[i]!;
  const cont = (k: number, lo = 0x80, hi = 0xbf) => i + k < b.length && b[i + k]! >= lo && b[i + k]! <= hi;
  if (b0 < 0x80) return 1;
  if (b0 >= 0xc2 && b0 <= 0xdf) return cont(1) ? 2 : 0;
  if (b0 === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if ((b0 >= 0xe1 && b0 <= 0xec) || b0 === 0xee || b0 === 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (b0 === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (b0 === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (b0 >= 0xf1 && b0 <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (b0 === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

/** Parses exactly one YAML document; returns undefined (with diagnostics) when the file is unusable. */
export function parseYaml(file: string, text: string, diagnostics: Diagnostic[]): ParsedYaml | undefined {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  // An error at the end of input (an unclosed quote) has the offset of the text's end, which after
  // the final newline is a line the file does not have: point at the end of the last line instead.
  const contentEnd = text.trimEnd().length;
  const at = (offset: number) => lines.linePos(Math.min(offset, contentEnd));
  if (!Array.isArray(docs) || docs.length === 0) {
    diagnostics.push(error(file, 1, 1, '', 'The file is empty; it must hold one YAML document.'));
    return undefined;
  }
  if (docs.length > 1) {
    const second = docs[1]!;
    const { line, col } = at(second.range[0]);
    diagnostics.push(error(file, line, col, '', `The file holds ${docs.length} YAML documents; put exactly one document in each file.`));
    return undefined;
  }
  const doc = docs[0]!;
  for (const w of doc.warnings) {
    const { line, col } = at(w.pos[0]);
    diagnostics.push({ severity: 'warning', file, line, col, path: '', message: sentence(w.message) });
  }
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const { line, col } = at(e.pos[0]);
      const message =
        e.code === 'DUPLICATE_KEY'
          ? `The key "${duplicateKeyName(text, e.pos)}" appears more than once in the same mapping; keep one.`
          : `YAML syntax error: ${sentence(e.message)}`;
      diagnostics.push(error(file, line, col, '', message));
    }
    return undefined;
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (cause) {
    const alias = firstAlias(doc);
    const { line, col } = alias ? at(alias) : { line: 1, col: 1 };
    const excessive = cause instanceof Error && cause.message.includes('Excessive alias count');
    diagnostics.push(
      error(
        file,
        line,
        col,
        '',
        excessive
          ? `YAML aliases expand this file beyond the limit of ${MAX_ALIAS_COUNT} alias uses; write the values out instead.`
          : `The YAML cannot be converted to data: ${sentence(cause instanceof Error ? cause.message : String(cause))}`,
      ),
    );
    return undefined;
  }
  if (value === null || value === undefined) {
    diagnostics.push(error(file, 1, 1, '', 'The file is empty; it must hold one YAML document.'));
    return undefined;
  }
  return { file, text, doc, lines, value };
}

function sentence(message: string): string {
  const trimmed = message.trim().replace(/\s+/g, ' ');
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

/** The key as written at the start of the duplicate (yaml marks only its first character). */
function duplicateKeyName(text: string, pos: [number, number]): string {
  const end = text.indexOf('\n', pos[0]);
  const rest = text.slice(pos[0], end === -1 ? undefined : end);
  const quoted = /^(["'])(.*?)\1/.exec(rest);
  return quoted ? quoted[2]! : (rest.split(':')[0] ?? '').trim();
}

function firstAlias(doc: Document.Parsed): number | undefined {
  let offset: number | undefined;
  visit(doc, {
    Alias(_key, node) {
      offset = node.range?.[0];
      return visit.BREAK;
    },
  });
  return offset;
}

/**
 * Line and column of the node at `path`: the key itself when `target` is 'key', else its value.
 * Stops at the deepest node that exists, so a missing key points at the mapping that lacks it.
 */
export function locate(parsed: Pick<ParsedYaml, 'doc' | 'lines'>, path: DocPath, target: 'key' | 'value' = 'value'): { line: number; col: number } {
  const { doc, lines } = parsed;
  let node: unknown = doc.contents;
  let offset = (node as Node | null)?.range?.[0] ?? 0;
  for (let i = 0; i < path.length; i++) {
    if (isAlias(node)) node = node.resolve(doc);
    const segment = path[i]!;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && keyText(p.key) === String(segment));
      if (!pair) break;
      const keyNode = pair.key as Node | null;
      if (i === path.length - 1 && target === 'key' && keyNode?.range) {
        offset = keyNode.range[0];
        break;
      }
      const valueNode = pair.value as Node | null;
      node = valueNode;
      offset = valueNode?.range?.[0] ?? keyNode?.range?.[0] ?? offset;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment] as Node | undefined;
      if (!item) break;
      node = item;
      offset = item.range?.[0] ?? offset;
    } else {
      break;
    }
  }
  return lines.linePos(offset);
}

function keyText(key: unknown): string {
  if (isScalar(key)) return String(key.value);
  return String(key);
}

export function located(
  parsed: Pick<ParsedYaml, 'doc' | 'lines' | 'file'>,
  severity: Diagnostic['severity'],
  path: DocPath,
  message: string,
  target: 'key' | 'value' = 'value',
): Diagnostic {
  const { line, col } = locate(parsed, path, target);
  return { severity, file: parsed.file, line, col, path: formatPath(path), message };
}
