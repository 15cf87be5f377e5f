/**
 * Which of a plan's actions ride the rollout waves, in which wave, and in which groups they run
 * there (the executor runs the groups in parallel, each group's actions in plan order).
 *
 * - Redeploys, in their own wave.
 * - Replacements (an AMI change, a volume shrink): every action of the replaced target, in the
 *   replacement's wave, one group per target.
 * - Account moves (src/plan/accounts.ts): every action of the moved tenant (its create or repair in
 *   the new account, its workspaces' creates there, the old account's cascade delete), in the
 *   move's wave, as one group — the new home before its workspaces. The old cascade is held back
 *   until after the wave's health gate (`moveDeletes`): a tenant whose new home failed, or failed
 *   its check, keeps its old home (its delete is skipped as a dependency of the failed target).
 */
import { targetKey } from '../plan/diff.js';
import type { Action } from '../plan/model.js';

export class RolloutGroups {
  /** Targets with a replacement, and tenants (orgId) with a move, with their wave. */
  private readonly replaced = new Map<string, number>();
  private readonly moved = new Map<string, number>();

  constructor(private readonly actions: readonly Action[]) {
    for (const a of actions) {
      if (a.move) this.moved.set(a.target.orgId, a.wave ?? 0);
      else if (a.replacement) this.replaced.set(targetKey(a.target), a.wave ?? 0);
    }
  }

  inRollout(a: Action): boolean {
    return a.kind === 'redeploy' || this.moved.has(a.target.orgId) || this.replaced.has(targetKey(a.target));
  }

  /** The rollout's actions by wave, in plan order. */
  byWave(): Map<number, Action[]> {
    const out = new Map<number, Action[]>();
    for (const a of this.actions) {
      if (!this.inRollout(a)) continue;
      const w = a.kind === 'redeploy' ? (a.wave ?? 0) : (this.moved.get(a.target.orgId) ?? this.replaced.get(targetKey(a.target)) ?? 0);
      out.set(w, [...(out.get(w) ?? []), a]);
    }
    return out;
  }

  /** A wave's replaced targets and moved tenants: one group per target, or per moved tenant. */
  groups(actions: readonly Action[]): Action[][] {
    const out = new Map<string, Action[]>();
    for (const a of actions) {
      const key = this.moved.has(a.target.orgId) ? `moved:${a.target.orgId}` : targetKey(a.target);
      out.set(key, [...(out.get(key) ?? []), a]);
    }
    return [...out.values()];
  }
}

/** A move's delete half: the old account's cascade, run only after the wave's health gate. */
export function isMoveDelete(a: Action): boolean {
  return a.kind === 'delete' && a.move !== undefined;
}
