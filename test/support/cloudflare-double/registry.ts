/**
 * Every double started in this process, so that a test runner hook can look at their violations
 * without the test having to hand them over. Kept on globalThis because a runner's setup file and
 * the test file may load this module through different module instances.
 */
import type { SchemaViolation } from './conformance.js';

export interface ViolationSource {
  readonly baseURL: string;
  readonly violations: SchemaViolation[];
}

const KEY = Symbol.for('tenantform.cloudflare-double.instances');

export function startedDoubles(): Set<ViolationSource> {
  const holder = globalThis as unknown as Record<symbol, Set<ViolationSource> | undefined>;
  holder[KEY] ??= new Set();
  return holder[KEY];
}
