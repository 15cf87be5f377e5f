/**
 * JSON Schema checks (2020-12, ajv) of each fleet file, with every ajv error turned into one
 * plain sentence at the YAML node it is about. The schemas in schemas/ are the reference
 * documentation of the format; this module only translates their verdicts.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import formatsPlugin from 'ajv-formats';
import { formatPath, type Diagnostic, type DocPath } from './diagnostics.js';
import { located, type ParsedYaml } from './source.js';

export type Kind = 'Fleet' | 'Tenant' | 'Workspace';

const schemaFiles: Record<Kind, string> = {
  Fleet: 'fleet.schema.json',
  Tenant: 'tenant.schema.json',
  Workspace: 'workspace.schema.json',
};

/** schemas/ sits beside src/ and dist/, so the same relative URL works from both. */
export const schemaDirectory = new URL('../../schemas/', import.meta.url);

let validators: Record<Kind, ValidateFunction> | undefined;

function compiled(): Record<Kind, ValidateFunction> {
  if (validators) return validators;
  const ajv = new Ajv2020({ allErrors: true, verbose: true, allowUnionTypes: true, strict: true });
  formatsPlugin.default(ajv, ['hostname']);
  const compile = (kind: Kind) => ajv.compile(JSON.parse(readFileSync(new URL(schemaFiles[kind], schemaDirectory), 'utf8')) as object);
  validators = { Fleet: compile('Fleet'), Tenant: compile('Tenant'), Workspace: compile('Workspace') };
  return validators;
}

/** Validates one parsed file against its kind's schema; true when it conforms. */
export function checkSchema(kind: Kind, parsed: ParsedYaml, diagnostics: Diagnostic[]): boolean {
  const validate = compiled()[kind];
  if (validate(parsed.value)) return true;
  const seen = new Set<string>();
  for (const e of prioritised(validate.errors ?? [])) {
    const d = describe(kind, e, parsed);
    if (!d) continue;
    const key = `${d.line}:${d.col}:${d.path}`;
    if (seen.has(key)) continue; // one message per place: the most fundamental one
    seen.add(key);
    diagnostics.push(d);
  }
  return false;
}

const priority: Record<string, number> = { type: 0, const: 1, enum: 1, required: 2, additionalProperties: 2, pattern: 3, format: 4 };

function prioritised(errors: ErrorObject[]): ErrorObject[] {
  // propertyNames reports twice (the wrapper and the nested check); the nested one says why.
  return errors.filter((e) => e.keyword !== 'propertyNames').sort((a, b) => (priority[a.keyword] ?? 5) - (priority[b.keyword] ?? 5));
}

function pointerToPath(pointer: string, root: unknown): (string | number)[] {
  if (pointer === '') return [];
  const out: (string | number)[] = [];
  let value = root;
  for (const raw of pointer.slice(1).split('/')) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(value)) {
      out.push(Number(part));
      value = value[Number(part)];
    } else {
      out.push(part);
      value = (value as Record<string, unknown> | undefined)?.[part];
    }
  }
  return out;
}

function describe(kind: Kind, e: ErrorObject, parsed: ParsedYaml): Diagnostic | undefined {
  const path = pointerToPath(e.instancePath, parsed.value);
  const name = String(path[path.length - 1] ?? kind);
  const at = (p: DocPath, message: string, target: 'key' | 'value' = 'value') => located(parsed, 'error', p, message, target);
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required': {
      const missing = String(params.missingProperty);
      const where = path.length === 0 ? '' : ` in "${name}"`;
      return { ...at(path, `The required key "${missing}" is missing${where}.`), path: formatPath([...path, missing]) };
    }
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const allowed = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      const suggestion = closest(key, allowed);
      const hint = suggestion ? `; did you mean "${suggestion}"?` : allowed.length > 0 ? `; allowed keys here are ${allowed.join(', ')}.` : '.';
      const message = `Unknown key "${key}"${hint}`;
      return at([...path, key], message.endsWith('?') || message.endsWith('.') ? message : `${message}.`, 'key');
    }
    case 'type': {
      const expected = ([] as string[])
        .concat(params.type as string | string[])
        .map(typeName)
        .join(' or ');
      return at(path, `"${name}" must be ${expected}, not ${show(e.data)}.`);
    }
    case 'const':
      return at(path, `"${name}" must be ${String(params.allowedValue)}, not ${show(e.data)}.`);
    case 'enum':
      return at(path, `"${name}" must be one of ${(params.allowedValues as unknown[]).map(String).join(', ')}, not ${show(e.data)}.`);
    case 'pattern':
    case 'format': {
      if (e.propertyName !== undefined) {
        return at([...path, e.propertyName], `${show(e.propertyName)} is not ${subjectDescription(e.schemaPath)}.`, 'key');
      }
      return at(path, patternMessage(e.schemaPath, e.data));
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum': {
      const words = { minimum: 'at least', maximum: 'at most', exclusiveMinimum: 'greater than', exclusiveMaximum: 'less than' }[e.keyword];
      return at(path, `"${name}" must be ${words} ${String(params.limit)}, not ${show(e.data)}.`);
    }
    case 'minItems':
      return at(path, `"${name}" must list at least ${String(params.limit)} item${params.limit === 1 ? '' : 's'}.`);
    case 'maxItems':
      return at(path, `"${name}" may list at most ${String(params.limit)} items.`);
    case 'minLength':
      return at(path, `"${name}" must not be empty.`);
    case 'maxLength':
      return at(path, `"${name}" must be at most ${String(params.limit)} characters long.`);
    default:
      return at(path, `"${name}" ${e.message ?? 'is invalid'}.`);
  }
}

function typeName(t: string): string {
  return { object: 'a mapping', array: 'a list', string: 'a string', integer: 'a whole number', number: 'a number', boolean: 'true or false', null: 'empty' }[t] ?? t;
}

/** A short, safe rendering of a value for a message. */
export function show(value: unknown): string {
  if (value === null || value === undefined) return 'empty';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') {
    const cut = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return JSON.stringify(cut);
  }
  return `${typeof value === 'number' && !Number.isInteger(value) ? 'the number ' : ''}${String(value)}`;
}

const subjects: Record<string, string> = {
  slug: 'a valid slug: use lower-case letters, digits and hyphens, at most 63 characters, starting and ending with a letter or digit',
  uuid: 'a UUID in canonical lower-case form (8-4-4-4-12 hexadecimal digits)',
  amiId: 'an AMI id (ami- followed by 8 or 17 lower-case hexadecimal digits)',
  runtime: 'a valid runtime name: use lower-case letters, digits and hyphens, starting with a letter, at most 32 characters',
  region: 'an AWS region name such as us-east-2',
  instanceType: 'an EC2 instance type such as t3.small',
  tierName: 'a valid tier name such as T4',
  appDomain: 'a lower-case domain name such as tenants.example.dev',
  batches: 'a batch size: write a count such as 5 or a percentage such as "25%"',
  imageReference: 'a valid OCI image reference such as ghcr.io/acme/platform:1.4.2',
  url: 'an http:// or https:// URL template such as "https://{slug}.{appDomain}/healthz"',
};

function subjectOf(schemaPath: string): string {
  const def = /#\/\$defs\/(\w+)\//.exec(schemaPath);
  if (def) return def[1]!;
  const props = [...schemaPath.matchAll(/properties\/(\w+)/g)];
  return props[props.length - 1]?.[1] ?? '';
}

function subjectDescription(schemaPath: string): string {
  return subjects[subjectOf(schemaPath)] ?? 'valid here';
}

/** Characters a shell would interpret; an image reference can never hold them. */
const SHELL_CHARACTERS = /[\s$`;|&<>()'"\\*?!#~{}[\]^]/;

function patternMessage(schemaPath: string, data: unknown): string {
  if (subjectOf(schemaPath) === 'imageReference' && typeof data === 'string') {
    const bad = SHELL_CHARACTERS.exec(data);
    if (bad) {
      return `The image reference ${show(data)} contains ${JSON.stringify(bad[0])}, which a shell would interpret; an image reference holds only letters, digits and . _ - / : @.`;
    }
  }
  return `${show(data)} is not ${subjectDescription(schemaPath)}.`;
}

/** The allowed key nearest to a misspelt one, when it is close enough to be a likely typo. */
function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = current;
    }
  }
  return row[b.length]!;
}
