/**
 * Shape checks for a plan file's fields, and one small declarative form (a `Shape`) for the
 * nested plain-data parts (intents, settings): the same shape both checks a read value field by
 * field and copies it in a fixed key order with nothing extra, so the canonical form and the
 * parser cannot disagree.
 */
import { InputError } from '../errors.js';

/** The first bad field of a plan file; parsePlan re-states it with the file's name. */
export class ShapeError extends InputError {
  constructor(detail: string) {
    super(detail, { operation: 'read plan file' });
  }
}

export function obj(v: unknown, at: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ShapeError(`${at} must be an object`);
  return v as Record<string, unknown>;
}
export function arr(v: unknown, at: string): unknown[] {
  if (!Array.isArray(v)) throw new ShapeError(`${at} must be an array`);
  return v;
}
export function str(v: unknown, at: string): string {
  if (typeof v !== 'string') throw new ShapeError(`${at} must be a string`);
  return v;
}
export function optStr(v: unknown, at: string): string | undefined {
  return v === undefined || v === null ? undefined : str(v, at);
}
export function strArr(v: unknown, at: string): string[] {
  return arr(v, at).map((s, i) => str(s, `${at}[${i}]`));
}
export function oneOf<T extends string>(v: unknown, allowed: readonly T[], at: string): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) throw new ShapeError(`${at} must be one of ${allowed.join(', ')}`);
  return v as T;
}

/**
 * A leaf (`string`, `count`: a non-negative integer, `number`: a finite non-negative number,
 * `boolean`, or a list of allowed strings), optional (`{ optional: leaf }`), an array of a shape,
 * or an object of shapes.
 */
export type Shape = 'string' | 'count' | 'number' | 'boolean' | readonly string[] | { optional: Shape } | { array: Shape } | { fields: Record<string, Shape> };

/** Checks `v` against `shape` and returns a copy in the shape's key order (unknown keys dropped). */
export function shaped(v: unknown, shape: Shape, at: string): unknown {
  if (shape === 'string') return str(v, at);
  if (shape === 'boolean') {
    if (typeof v !== 'boolean') throw new ShapeError(`${at} must be a boolean`);
    return v;
  }
  if (shape === 'count' || shape === 'number') {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (shape === 'count' && !Number.isInteger(v))) {
      throw new ShapeError(`${at} must be a non-negative ${shape === 'count' ? 'integer' : 'number'}`);
    }
    return v;
  }
  if (isChoice(shape)) return oneOf(v, shape, at);
  if ('optional' in shape) return v === undefined || v === null ? undefined : shaped(v, shape.optional, at);
  if ('array' in shape) return arr(v, at).map((x, i) => shaped(x, shape.array, `${at}[${i}]`));
  const o = obj(v, at);
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(shape.fields)) {
    const value = shaped(o[key], field, `${at}.${key}`);
    if (value !== undefined) out[key] = value;
  }
  return out;
}

function isChoice(shape: Shape): shape is readonly string[] {
  return Array.isArray(shape);
}
