/**
 * Which account each tenant's actions act in (src/accounts.ts), when a canary account is
 * configured (the inventory lists it in `accounts`):
 *
 * - A declared tenant belongs in the canary account when `canary: true`, else in main. Its plan
 *   is made from what is live in that account (plus its Cloudflare tunnel and record, which are
 *   one for both), and every action (and intent) is stamped with the account.
 * - Move. What is live of it in the other account is its old home: a tenant whose `canary`
 *   flipped is planned as a replacement across accounts — the create (or repair) in the new
 *   account, then a delete of the old AWS cascade (instances, groups, bundle; never the tunnel
 *   or record the new one adopts). Both halves carry `move`; the guards count the delete as a
 *   tenant delete and as a replacement, and hold both halves together.
 * - Unobserved. When the canary account could not be observed (its role refused), its tenants are
 *   unknown, never absent: declared canary tenants are not planned, nor is any tenant whose AWS
 *   side is not in main (it may be in the canary account), and one non-blocking `account` finding
 *   names them and the error. Main-account tenants are planned as usual.
 * - An undeclared tenant is deleted in the account its AWS resources are in (main when none).
 */
import { type Account, accountLabel, type AccountObservation, accountOf } from '../accounts.js';
import type { Inventory, LiveTenant } from '../live/model.js';
import type { Action, GuardFinding } from './model.js';

export interface AccountsView {
  /** False when no canary account is configured: nothing is stamped, every action is main's. */
  configured: boolean;
  /** The canary account's observation when it could not be observed. */
  unobserved: AccountObservation | undefined;
}

export function accountsView(inv: Inventory): AccountsView {
  const canary = inv.accounts?.canary;
  return { configured: canary !== undefined, unobserved: canary && !canary.observed ? canary : undefined };
}

/** The tenant's AWS objects in `account` (and, with `cloudflare`, its tunnels and records). */
export function liveIn(live: LiveTenant, account: Account, cloudflare: boolean): LiveTenant {
  const here = <T extends { account?: Account }>(xs: readonly T[] | undefined): T[] => (xs ?? []).filter((x) => accountOf(x) === account);
  const workspaces: LiveTenant['workspaces'] = {};
  for (const [id, w] of Object.entries(live.workspaces ?? {})) {
    const instances = here(w.instances);
    const securityGroups = here(w.securityGroups);
    if (instances.length > 0 || securityGroups.length > 0) workspaces[id] = { ...w, instances, securityGroups };
  }
  return {
    ...live,
    instances: here(live.instances),
    securityGroups: here(live.securityGroups),
    secrets: here(live.secrets),
    tunnels: cloudflare ? [...(live.tunnels ?? [])] : [],
    dnsRecords: cloudflare ? [...(live.dnsRecords ?? [])] : [],
    workspaces,
  };
}

/** Whether the tenant has any AWS object in `account`. */
export function hasAwsIn(live: LiveTenant, account: Account): boolean {
  const l = liveIn(live, account, false);
  return l.instances.length > 0 || l.securityGroups.length > 0 || l.secrets.length > 0 || Object.keys(l.workspaces).length > 0;
}

/** Stamps the account on the actions and their intents. */
export function inAccount(actions: Action[], account: Account): Action[] {
  return actions.map((a) => ({ ...a, account, intent: { ...a.intent, account } }));
}

/** Marks a move's halves and says so in their reasons. */
export function asMove(a: Action, from: Account, to: Account): Action {
  return {
    ...a,
    move: { from, to },
    reason: `move ${from} → ${to}: ${a.kind === 'delete' ? 'the old cascade is deleted once the tenant is up in its new account' : a.reason}`,
  };
}

export function unobservedFinding(unobserved: AccountObservation, slugs: string[]): GuardFinding {
  const n = slugs.length;
  return {
    guard: 'account',
    blocking: false,
    message: `the ${unobserved.account} account ${accountLabel(unobserved, unobserved.account)} could not be observed (${unobserved.error ?? 'unknown error'}); ${
      n === 0 ? 'no tenant is affected' : `nothing is planned for ${n} tenant${n === 1 ? '' : 's'} (${slugs.join(', ')})`
    } — the other tenants are planned as usual`,
    actionIds: [],
  };
}
