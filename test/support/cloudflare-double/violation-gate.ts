/**
 * Turns conformance violations into test failures: each check reports what the started doubles
 * recorded since the previous check, so a violation fails the test during which it happened.
 */
import type { SchemaViolation } from './conformance.js';
import { startedDoubles, type ViolationSource } from './registry.js';

export class ViolationGate {
  /** By identity, not by count: takeViolations() may empty a list between two checks. */
  private readonly reported = new WeakSet<SchemaViolation>();

  constructor(private readonly sources: () => Iterable<ViolationSource> = startedDoubles) {}

  /** Throws when any double has violations that no earlier check reported. */
  check(): void {
    const fresh: Array<{ source: ViolationSource; violations: SchemaViolation[] }> = [];
    for (const source of this.sources()) {
      const violations = source.violations.filter((v) => !this.reported.has(v));
      for (const v of violations) this.reported.add(v);
      if (violations.length > 0) fresh.push({ source, violations });
    }
    if (fresh.length > 0) throw new Error(formatViolations(fresh));
  }
}

export function formatViolations(found: Array<{ source: ViolationSource; violations: SchemaViolation[] }>): string {
  const lines = ["The Cloudflare double saw traffic that does not conform to Cloudflare's schema:"];
  for (const { source, violations } of found) {
    for (const v of violations) {
      const status = v.status === undefined ? '' : ` → ${v.status}`;
      lines.push(`  ${v.direction} ${v.method} ${v.path}${status} [${v.operation}] (double at ${source.baseURL})`);
      for (const p of v.problems) lines.push(`      ${p}`);
    }
  }
  return lines.join('\n');
}
