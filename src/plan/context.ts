/**
 * What the planner's modules share while one plan is made: the `--replace` requests, the findings
 * whose action ids are known only once every action is, the older-AMI notice, where workspaces
 * are declared and live, and how an action is identified and ordered.
 *
 * - Duplicates (two live instances, security groups, tunnels, DNS records or secrets for one
 *   identity) get a non-blocking `duplicateLive` finding and NO delete: choosing which copy is
 *   disposable (a tenant VM holds data) is a person's call. The plan acts on the primary: the
 *   oldest instance, the tunnel the DNS record points at (else the oldest tunnel), the record
 *   with the expected hostname.
 * - Action ids are `<kind>:<target key>`; the target key (`tenant:<org>` or
 *   `workspace:<org>:<workspace id>`) names one tenant's or one workspace's actions.
 */
import type { BackupSettings } from '../contract.js';
import type { DesiredState, FleetSpec } from '../desired/model.js';
import { describeTarget } from './guards.js';
import type { Action, ActionIntent, ActionKind, ActionTarget, Attributes, GuardFinding, GuardKind, PlanNotice, Step } from './model.js';
import { compareText } from './normalise.js';

/** Per-target order of action kinds; a replacement's delete goes first, a plain delete last. */
export function actionRank(a: Action): number {
  // A move's delete is a plain delete's rank: the tenant is up in its new account first.
  if (a.kind === 'delete') return a.replacement ? 0 : 8;
  return { create: 1, repair: 2, update: 3, resize: 4, start: 5, redeploy: 6, stop: 7 }[a.kind];
}

export function targetKey(t: ActionTarget): string {
  return t.kind === 'tenant' ? `tenant:${t.orgId}` : `workspace:${t.orgId}:${t.workspaceId ?? ''}`;
}

/** Where each workspace id is declared and where it is live: a workspace found under another org moved. */
export interface WorkspaceHomes {
  declared: Map<string, ActionTarget>;
  live: Map<string, ActionTarget[]>;
  /** Every live security group's owner (by its tags), to find an instance sitting in another's group. */
  groupOwners: Map<string, ActionTarget>;
}

export class PlanContext {
  private readonly pending: { finding: GuardFinding; targetKeys: string[] }[] = [];
  homes: WorkspaceHomes = { declared: new Map(), live: new Map(), groupOwners: new Map() };
  private readonly olderAmi: string[] = [];

  constructor(
    readonly fleet: FleetSpec,
    readonly env: string,
    /** `--replace` requests: `<slug>` or `<slug>/<workspace name or id>`. */
    private readonly replace: ReadonlySet<string>,
    readonly backup?: BackupSettings,
  ) {}

  replaceRequested(t: ActionTarget): boolean {
    if (t.kind === 'tenant') return this.replace.has(t.slug);
    return [t.workspaceName, t.workspaceId].some((w) => w !== undefined && this.replace.has(`${t.slug}/${w}`));
  }

  /** An instance kept on an older AMI than declared (`<slug>` or `<slug>/<workspace>`). */
  noteOlderAmi(t: ActionTarget): void {
    this.olderAmi.push(replaceName(t));
  }

  notices(): PlanNotice[] {
    const n = this.olderAmi.length;
    if (n === 0) return [];
    const targets = [...this.olderAmi].sort(compareText);
    return [
      {
        kind: 'olderAmi',
        message: `${n} instance${n === 1 ? ' runs' : 's run'} an older AMI than declared (${targets.join(', ')}); an AMI change alone never replaces an instance — new launches use the declared AMI; replace one explicitly with apply --replace <slug> or --replace <slug>/<workspace>`,
        targets,
      },
    ];
  }

  /** A finding whose action ids are filled in once every action of its targets is known. */
  flag(guard: GuardKind, blocking: boolean, message: string, targets: ActionTarget[]): void {
    this.pending.push({ finding: { guard, blocking, message, actionIds: [] }, targetKeys: targets.map(targetKey) });
  }

  resolveFindings(actions: Action[]): GuardFinding[] {
    const byTarget = new Map<string, string[]>();
    for (const a of actions) {
      const k = targetKey(a.target);
      byTarget.set(k, [...(byTarget.get(k) ?? []), a.id]);
    }
    return this.pending.map(({ finding, targetKeys }) => {
      return { ...finding, actionIds: targetKeys.flatMap((k) => byTarget.get(k) ?? []) };
    });
  }
}

export function action(
  kind: ActionKind,
  target: ActionTarget,
  steps: Step[],
  before: Attributes | null,
  after: Attributes | null,
  reason: string,
  intent: ActionIntent,
): Action {
  return { id: `${kind}:${targetKey(target)}`, kind, target, steps, before, after, reason, intent };
}

/** How `--replace` names a target: `<slug>` or `<slug>/<workspace name>`. */
export function replaceName(t: ActionTarget): string {
  return t.kind === 'tenant' ? t.slug : `${t.slug}/${t.workspaceName ?? t.workspaceId ?? ''}`;
}

/** `--replace` requests that name no declared tenant or workspace (an error for the CLI). */
export function unknownReplaceTargets(desired: DesiredState, requests: readonly string[]): string[] {
  const known = new Set<string>();
  for (const t of desired.tenants) {
    known.add(t.spec.slug);
    for (const w of t.workspaces) known.add(`${t.spec.slug}/${w.spec.name}`).add(`${t.spec.slug}/${w.spec.id}`);
  }
  return requests.filter((r) => !known.has(r));
}

/** Marks an action as held by a guard the planner found (identity, groupInUse). */
export function block(a: Action, guard: GuardKind): void {
  a.blockedBy = [...(a.blockedBy ?? []), guard];
}

export function flagDuplicates(ctx: PlanContext, target: ActionTarget, kinds: [string, string[]][]): void {
  for (const [what, ids] of kinds) {
    if (ids.length < 2) continue;
    ctx.flag(
      'duplicateLive',
      false,
      `${describeTarget(target)} has ${ids.length} live ${what} (${ids.join(', ')}); the plan acts on ${ids[0]} and deletes none of them — remove the extra by hand or with sweep`,
      [target],
    );
  }
}
