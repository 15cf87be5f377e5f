/**
 * Injected failures, consumed in the order they were added by the requests they match.
 */

export type FaultKind = 'status' | 'drop' | 'commit-then-drop' | 'rate-limit';

export interface FaultSpec {
  method?: string;
  /** Matched against the API path (relative to the base URL, without the query). */
  path?: RegExp;
  /** Further narrowing, e.g. on the query string. */
  match?: (req: { method: string; path: string; query: string }) => boolean;
  /** How many matching requests fail; default 1. */
  times?: number;
  kind: FaultKind;
  /** HTTP status for `status` (default 500). */
  status?: number;
  /** Envelope error code for `status` and `rate-limit`. */
  code?: number;
  /** retry-after for `rate-limit` (default 1). */
  retryAfterSeconds?: number;
}

interface ArmedFault {
  spec: FaultSpec;
  left: number;
}

export class FaultQueue {
  private armed: ArmedFault[] = [];

  add(spec: FaultSpec): void {
    this.armed.push({ spec, left: spec.times ?? 1 });
  }

  clear(): void {
    this.armed = [];
  }

  /** The first armed fault matching this request, counted as used. */
  take(req: { method: string; path: string; query: string }): FaultSpec | undefined {
    const hit = this.armed.find(({ spec }) => {
      if (spec.method && spec.method.toUpperCase() !== req.method) return false;
      if (spec.path && !spec.path.test(req.path)) return false;
      return spec.match ? spec.match(req) : true;
    });
    if (!hit) return undefined;
    hit.left -= 1;
    if (hit.left <= 0) this.armed.splice(this.armed.indexOf(hit), 1);
    return hit.spec;
  }
}
