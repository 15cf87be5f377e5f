/**
 * Turns conformance violations into test failures: each check reports what the started doubles
 * recorded since the previous check, so a violation fails the test during which it happened.
 */
import type { SchemaViolation } from './conformance.js';
import { startedDoubles, type ViolationSource } from './registry.js';

export class ViolationGate {
  private readonly seen = new Map<ViolationSource, number>();

  constructor(private readonly sources: () => Iterable<ViolationSource> = startedDoubles) {}

  /** Throws when any double has violations the previous check did not see. */
  check(): void {
    const fresh: Array<{ source: ViolationSource; violations: SchemaViolation[] }> = [];
    for (const source of this.sources()) {
      // takeViolations() may have emptied the list since the last look.
      const from = Math.min(this.seen.get(source) ?? 0, source.violations.length);
      const violations = source.violations.slice(from);
      this.seen.set(source, source.violations.length);
      if (violations.length > 0) fresh.push({ source, violations });
    }
    if (fresh.length > 0) throw new Error(formatViolations(fresh));
  }
}

export function formatViolations(found: Array<{ source: ViolationSource; violations: SchemaViolation[] }>): string {
  const lines = ['The Cloudflare double saw traffic that does not conform to Cloudflare\'s schema:'];
  for (const { source, violations } of found) {
    for (const v of violations) {
      const status = v.status === undefined ? '' : ` → ${v.status}`;
      lines.push(`  ${v.direction} ${v.method} ${v.path}${status} [${v.operation}] (double at ${source.baseURL})`);
      for (const p of v.problems) lines.push(`      ${p}`);
    }
  }
  return lines.join('\n');
}
