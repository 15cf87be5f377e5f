/**
 * The plan: plain, versioned data. A closed union of action kinds; `reason`, `before` and `after`
 * are for people and never steer apply, which acts on an action's kind, steps and `intent`. Every
 * renderer works from this one JSON form.
 */
import type { Account, AccountObservation } from '../accounts.js';
import type { StepResource } from '../kinds.js';
import type { ActionIntent, PlanSettings } from './intent.js';

export type { ActionIntent, PlanSettings } from './intent.js';

/**
 * 2: a digest in the file, `notices`, `basis.replace`, the maxTerminations and declared guards.
 * 3: every action's `intent` and the plan's `settings` (src/plan/intent.ts): a saved plan applies
 * without the fleet repository.
 * Older files are refused with a "re-plan" message (their guards were computed under other rules,
 * and a format 2 file does not say what to build).
 */
export const PLAN_FORMAT_VERSION = 3;

export type ActionKind = 'create' | 'repair' | 'update' | 'redeploy' | 'resize' | 'stop' | 'start' | 'delete';
export const ACTION_KINDS: readonly ActionKind[] = ['create', 'repair', 'update', 'redeploy', 'resize', 'stop', 'start', 'delete'];

export interface ActionTarget {
  kind: 'tenant' | 'workspace';
  orgId: string;
  slug: string;
  /** Workspaces only. */
  workspaceId?: string;
  workspaceName?: string;
}

/** The sub-resources an action touches, in execution order (a create's sequence, a delete's cascade): src/kinds.ts. */
export type { StepResource } from '../kinds.js';
export interface Step {
  resource: StepResource;
  op: 'create' | 'delete' | 'restore' | 'modify' | 'stop' | 'start' | 'run';
  /** Live id when the step acts on something that exists (a delete, a repair's adoption). */
  id?: string;
  /** For workspace cascades within a tenant delete. */
  workspaceId?: string;
}

export type Attributes = Record<string, string | number | boolean | null>;

/**
 * `identity`: a declared slug is live under another org (an orgId never changes in place).
 * `groupInUse`: a security group the plan deletes is used by an instance the plan keeps.
 * `volumeShrink`: a live root volume is larger than declared; it is kept (EBS cannot shrink).
 * `maxTerminations`, `maxReplacements`, `declared`: see src/plan/guards.ts. `quota`: src/plan/quotas.ts.
 * `account`: an AWS account could not be observed (a refused AssumeRole); its tenants are not planned (src/plan/accounts.ts).
 */
export const GUARD_KINDS = [
  'maxDeletes',
  'maxTerminations',
  'maxReplacements',
  'deletionProtection',
  'declared',
  'emptyDesired',
  'duplicateLive',
  'scope',
  'identity',
  'groupInUse',
  'volumeShrink',
  'quota',
  'account',
] as const;
export type GuardKind = (typeof GUARD_KINDS)[number];

export interface Action {
  /** Stable and unique within a plan: `<kind>:<target kind>:<orgId>[:<workspaceId>]`. */
  id: string;
  kind: ActionKind;
  target: ActionTarget;
  steps: Step[];
  before: Attributes | null;
  after: Attributes | null;
  reason: string;
  /** Redeploys only: rollout wave, 0 = canaries, then the fleet in batches. */
  wave?: number;
  /** Guards that stop this action from being applied as planned. */
  blockedBy?: GuardKind[];
  /**
   * Set on both halves of a replacement (a `delete` of the instance immediately followed by a
   * `create` of it) so apply runs them as a pair and renderers show them as one change.
   */
  replacement?: boolean;
  /** What apply builds or removes (src/plan/intent.ts): plain data, never a secret. */
  intent: ActionIntent;
  /**
   * The AWS account the action acts in (src/accounts.ts), also in its intent; set when a canary
   * account is configured, absent means main.
   */
  account?: Account;
  /**
   * Both halves of a tenant's move between accounts (its `canary` flipped): the create in the new
   * account, then the delete of its old cascade (AWS only: the tunnel and record stay). Counted by
   * the delete guards and guards.maxReplacements; held together.
   */
  move?: { from: Account; to: Account };
}

export interface GuardFinding {
  guard: GuardKind;
  message: string;
  /** A blocking finding makes plan exit 3 and apply refuse (unless overridden where allowed). */
  blocking: boolean;
  actionIds: string[];
}

export interface PlanBasis {
  commit: string | undefined;
  desiredHash: string;
  changedSince: string | undefined;
  /** 'all', or the org ids whose files changed (a pull request's scope). */
  scope: { kind: 'all' } | { kind: 'tenants'; orgIds: string[]; slugs: string[] };
  /** `<resource kind>:<id>` → hash of the observed attributes the plan relied on. */
  fingerprints: Record<string, string>;
  /** `--replace` requests the plan was made with (`<slug>` or `<slug>/<workspace>`), sorted. */
  replace: string[];
}

/**
 * Something people should know that is not an action and blocks nothing: today, instances that
 * run an older AMI than declared (an AMI difference alone never replaces an instance).
 */
export interface PlanNotice {
  /** `quotaNear`: the plan ends within 10% of a quota; `quotaUnknown`: a quota could not be checked (src/plan/quotas.ts). */
  kind: 'olderAmi' | 'quotaNear' | 'quotaUnknown';
  message: string;
  /** `<slug>` or `<slug>/<workspace>` of each instance concerned, so `--replace` can name them. */
  targets: string[];
}

export interface Plan {
  formatVersion: typeof PLAN_FORMAT_VERSION;
  environment: string;
  createdAt: string;
  /** The fleet settings apply acts with; null when no desired state could be read (nothing is planned then). */
  settings: PlanSettings | null;
  basis: PlanBasis;
  actions: Action[];
  guards: GuardFinding[];
  notices: PlanNotice[];
  summary: Record<ActionKind, number>;
  /** Set when a canary account is configured: each account's id and region, and whether it was observed. */
  accounts?: Partial<Record<Account, AccountObservation>>;
}
