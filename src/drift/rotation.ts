/**
 * Which tenants one drift run deep-checks. Never-checked tenants come first (by slug), then the
 * stalest by the run that last checked them (then by slug), so a fixed fleet is covered in
 * ⌈tenants / per-run⌉ runs and no tenant is checked twice before every tenant was checked once.
 *
 * The budget caps the per-tenant calls of one run on each service (Cloudflare: one tunnel
 * configuration GET per tunnel; Secrets Manager: one value read per bundle). Selection stops at the
 * first tenant that no longer fits, so the order is kept strictly.
 */

export interface RotationCandidate {
  orgId: string;
  slug: string;
  /** Per-tenant deep calls by service. */
  cost: { cloudflare: number; secretsmanager: number };
}

export interface RotationMark {
  orgId: string;
  runSeq: number;
}

export interface RotationChoice<T extends RotationCandidate> {
  checked: T[];
  pending: T[];
  /** True when the stalest pending tenant alone costs more than the budget: raise --budget. */
  budgetTooSmall: boolean;
}

export function stalestFirst<T extends RotationCandidate>(candidates: readonly T[], marks: readonly RotationMark[]): T[] {
  const seq = new Map(marks.map((m) => [m.orgId, m.runSeq]));
  return [...candidates].sort((a, b) => {
    const sa = seq.get(a.orgId) ?? 0;
    const sb = seq.get(b.orgId) ?? 0;
    if (sa !== sb) return sa - sb;
    return a.slug < b.slug ? -1 : a.slug > b.slug ? 1 : 0;
  });
}

export function chooseDeepChecks<T extends RotationCandidate>(candidates: readonly T[], marks: readonly RotationMark[], budget: number | undefined): RotationChoice<T> {
  const ordered = stalestFirst(candidates, marks);
  if (budget === undefined) return { checked: ordered, pending: [], budgetTooSmall: false };
  const spent = { cloudflare: 0, secretsmanager: 0 };
  let cut = ordered.length;
  for (let i = 0; i < ordered.length; i++) {
    const c = ordered[i]!.cost;
    if (spent.cloudflare + c.cloudflare > budget || spent.secretsmanager + c.secretsmanager > budget) {
      cut = i;
      break;
    }
    spent.cloudflare += c.cloudflare;
    spent.secretsmanager += c.secretsmanager;
  }
  return { checked: ordered.slice(0, cut), pending: ordered.slice(cut), budgetTooSmall: cut === 0 && ordered.length > 0 };
}
