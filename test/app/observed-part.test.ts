import { describe, expect, it } from 'vitest';
import { observedPart } from '../../src/app/accounts.js';
import type { Action, Plan } from '../../src/plan/model.js';

const action = (id: string, account: 'main' | 'canary', instanceId: string): Action =>
  ({
    id,
    kind: 'resize',
    target: { kind: 'tenant', orgId: `org-${id}`, slug: id },
    steps: [{ resource: 'instance', op: 'modify', id: instanceId }],
    account,
    intent: { kind: 'tenant', account },
  }) as unknown as Action;

describe('observedPart: a saved plan judged on the accounts that could be observed', () => {
  it("keeps the fingerprints of the objects the main account's actions act on, and drops the unobserved account's", () => {
    const plan = {
      environment: 'dev',
      actions: [action('a', 'main', 'i-main'), action('b', 'canary', 'i-canary')],
      basis: { desiredHash: 'h', fingerprints: { 'instance:i-main': 'x1', 'instance:i-canary': 'x2' } },
    } as unknown as Plan;
    const part = observedPart(plan, new Set(['canary']));
    expect(part.actions.map((a) => a.id)).toEqual(['a']);
    // Without this key, a main-account instance changed since the plan would not make it stale.
    expect(part.basis.fingerprints).toEqual({ 'instance:i-main': 'x1' });
  });
});
