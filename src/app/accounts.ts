/**
 * The use cases' side of the canary account (src/accounts.ts): what the session is asked for,
 * what observe is handed, and how an account that could not be observed is carried through a
 * saved plan's staleness check and into the change set.
 */
import { accountOf, type Account } from '../accounts.js';
import { canaryWiring, type AccountAct, type ActContext } from '../apply/context.js';
import type { Wiring } from '../config/env.js';
import type { Inventory } from '../live/model.js';
import type { ObserveOptions } from '../live/observe.js';
import { fingerprintInventory } from '../plan/fingerprint.js';
import type { Plan } from '../plan/model.js';
import type { CloudSession, CloudSessionRequest } from './ports.js';

/** The session's canary part: CANARY_ROLE_ARN assumed as `tenantform-<env>` in CANARY_REGION. */
export function canaryRequest(canary: Pick<NonNullable<Wiring['canary']>, 'roleArn' | 'region'> | undefined, environment: string): CloudSessionRequest['canary'] {
  return canary ? { roleArn: canary.roleArn, region: canary.region, sessionName: `tenantform-${environment}` } : undefined;
}

/** What observe needs to cover both accounts. */
export function observeAccounts(session: CloudSession): Pick<ObserveOptions, 'main' | 'canary'> {
  return session.canary ? { main: session.main, canary: session.canary } : {};
}

export function unobservedAccounts(inv: Inventory): Set<Account> {
  return new Set(
    Object.values(inv.accounts ?? {})
      .filter((a) => !a.observed)
      .map((a) => a.account),
  );
}

/**
 * A saved plan as far as the observed accounts go: the actions in an unobserved account are
 * neither checked for staleness (nothing of theirs could be seen) nor dropped — they fail at
 * apply with the account's error — so the rest of the plan is judged on its own fingerprints.
 */
export function observedPart(plan: Plan, unobserved: ReadonlySet<Account>): Plan {
  if (unobserved.size === 0) return plan;
  const actions = plan.actions.filter((a) => !unobserved.has(accountOf(a.intent)));
  const keys = new Set(
    Object.keys(
      fingerprintInventory(
        {
          environment: plan.environment,
          observedAt: '',
          scope: { kind: 'all' },
          tenants: {},
          unattributed: [],
          calls: { ec2: 0, secretsmanager: 0, ssm: 0, cloudflare: 0 },
        },
        { actions },
      ),
    ),
  );
  // Keyed by what a kept action relies on: its absent/cascade keys (from the empty inventory above)
  // and `<kind>:<id>` of every object its steps name, which no empty inventory can produce.
  const stepIds = new Set(actions.flatMap((a) => a.steps.flatMap((s) => (s.id === undefined ? [] : [s.id]))));
  const reliedOn = (k: string) => keys.has(k) || (!k.startsWith('absent:') && !k.startsWith('cascade:') && stepIds.has(k.slice(k.indexOf(':') + 1)));
  const fingerprints = Object.fromEntries(Object.entries(plan.basis.fingerprints).filter(([k]) => reliedOn(k)));
  return { ...plan, actions, basis: { ...plan.basis, fingerprints } };
}

/** The change set's account lines: the plan's `account` findings (a fresh plan plans nothing for those tenants). */
export function accountFailures(plan: Plan): string[] {
  return plan.guards.filter((g) => g.guard === 'account').map((g) => g.message);
}

/** Each account's clients, gate and wiring for the act steps. */
export function actAccounts(session: CloudSession, wiring: Wiring, main: Pick<ActContext, 'aws' | 'call' | 'wiring'>): Partial<Record<Account, AccountAct>> | undefined {
  const canary = canaryWiring(wiring);
  if (!session.canary || !canary) return undefined;
  const w = main.wiring;
  return {
    main: {
      aws: main.aws,
      call: main.call,
      wiring: {
        region: w.region,
        vpcId: w.vpcId,
        subnetId: w.subnetId,
        legacySecurityGroupId: w.legacySecurityGroupId,
        instanceProfileName: w.instanceProfileName,
        eicSecurityGroupId: w.eicSecurityGroupId,
        keyName: w.keyName,
      },
    },
    canary: { aws: session.canary.aws, call: session.canary.gate, wiring: canary },
  };
}
