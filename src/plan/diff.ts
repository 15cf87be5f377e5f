/**
 * The planner: (desired, inventory) → plan. Pure — no I/O, no clock (`now` comes in through the
 * options), deterministic ordering — so the same inputs always give the same plan, byte for byte.
 *
 * Normalisation rules (what counts as "equal" and "existing"):
 * - Identity. Tenants are matched by OrgID, workspaces by WorkspaceID within their tenant. A
 *   workspace that moved to another org is a delete under the old org and a create under the new
 *   (both reasons say "moved"); the two run in parallel, which is safe because workspace group
 *   names carry the org (contract.ts). A workspace instance found in a group that another tenant or
 *   workspace owns (a move made under the old, org-less names) gets a `repair` that moves it into
 *   its own group. Duplicate declarations (same OrgID, or same WorkspaceID within a tenant) are the
 *   validator's business; here the first one (in sorted order) wins.
 * - An orgId never changes in place. A declared slug live under another org that holds a VM or a
 *   bundle (an edited orgId, or a slug handed to a new org before the old one was removed or
 *   renamed) is a blocking `identity` finding naming both orgs, and its actions are blocked: a
 *   delete + create would destroy the tenant's database. A purged org's leftovers that hold
 *   nothing (tunnel, record, group) are deleted and cleaned by the create as before.
 * - Groups in use. A security group a delete removes while a standing instance the plan neither
 *   deletes nor moves out still uses it is a blocking `groupInUse` finding naming the instance:
 *   otherwise apply would retry DependencyViolation until its deadline on every run.
 * - Existence. An instance exists when pending, running, stopping or stopped; shutting-down and
 *   terminated instances are gone (a create may proceed). Delete cascades still list shutting-down
 *   instances so apply waits for them before removing their security groups. A secret scheduled
 *   for deletion does not exist but is restorable: a create or repair restores it (its generated
 *   passwords are generated once and never regenerated) instead of creating a new one.
 * - Partial tenants. Nothing live (ignoring a scheduled secret) → `create`. Anything live →
 *   `repair` with only the missing steps. A CNAME or tunnel existing does not prove ingress is
 *   configured (only drift can read it, per tunnel), so ingress is rewritten whenever the DNS
 *   record is created or re-pointed. A DNS record counts only when it is a proxied CNAME to
 *   `<tunnel-id>.cfargotunnel.com` of a live tunnel; otherwise it is re-pointed (`modify`). A
 *   recreated tunnel has a new token, so the secret bundle is rewritten and the platform
 *   re-reads it over SSM (`command run`).
 * - Power. pending counts as running, stopping as stopped. A stopped instance whose desired
 *   power is running gets `start`, and vice versa `stop`. A `resize` (stop → modify → start)
 *   ends in the desired power, so it replaces the separate start/stop.
 * - Instance type compares case-insensitively, trimmed.
 * - Images compare as exact strings (trimmed) against the `Image` tag, with no registry or
 *   `:latest` normalisation: the tag records exactly what apply deployed. A missing tag differs
 *   (the image running there is unknown). An empty desired image is "unknown" and never
 *   compared. Canary tenants' effective image is already resolved in the desired state.
 * - Redeploys run over SSM, which needs a running instance: a redeploy of an instance that
 *   will be stopped is start → run → stop, and one that will run is just run.
 * - Replacement (a `delete` of the instance, then a `create`, both marked `replacement`), for
 *   what cannot change in place: a workspace's Runtime tag; a workspace leaving the
 *   containerised path (its native runtime is laid down at first boot); and an explicit request
 *   (`--replace <slug>` / `--replace <slug>/<workspace>`).
 * - Root volume. EBS grows in place: a live root volume smaller than declared is part of the
 *   `resize` action (`volume:modify`, then `command:run` to grow the partition and filesystem,
 *   bracketed by start/stop when the instance is to be stopped), never a replacement. EBS cannot
 *   shrink: a live volume larger than declared is kept and the plan says so in a non-blocking
 *   `volumeShrink` finding (blocking would refuse every other change of the fleet over a disk
 *   that is merely bigger than asked, often grown by hand on purpose; nothing is lost by keeping
 *   it). An unobserved volume size (undefined) is never compared.
 * - AMI. A different AMI alone never replaces an instance: a tenant instance holds its platform
 *   and database, and the control plane resolved the AMI at launch only. The plan carries an
 *   `olderAmi` notice naming the instances concerned; new launches (creates, repairs,
 *   replacements) use the declared AMI. An unresolved AMI ('') is never compared.
 * - Tags that matter: OrgSlug and DeletionProtection (only the literal `true`, any case,
 *   protects) on the tenant's instance, security groups and live secret; OrgSlug, Tier and the
 *   tenant's DeletionProtection on a workspace instance, OrgSlug and DeletionProtection on its
 *   security groups (a protected tenant's workspaces carry the tag too). A slug change also renames the tunnel,
 *   the DNS record and its ingress hostname (`update`). Hostnames compare case-insensitively.
 * - Platform port. A tenant group whose observed ingress opens to address ranges anything but
 *   exactly tcp/`fleet.tenant.platformPort` (a port change, a hand-opened range) gets a
 *   `securityGroup modify` step in the tenant's `update`; apply then makes its rules the
 *   contract's. Group-sourced rules (tcp/22 from the EIC group) are not compared here; rules not
 *   observed (undefined) never are.
 * - Bundle content. Plan reads no secret value: the bundle's `BackupConfig` tag (missing = `off`)
 *   stands for the TENANT_BACKUP_* settings it holds. When `opts.backup` is given and differs, the
 *   tenant's `update` rewrites the bundle (`secret modify`) and the platform re-reads it over SSM
 *   (`command run`, bracketed by start/stop when the instance is stopped).
 * - Duplicates (two live instances, security groups, tunnels, DNS records or secrets for one
 *   identity) get a non-blocking `duplicateLive` finding and NO delete: choosing which copy is
 *   disposable (a tenant VM holds data) is a person's call. The plan acts on the primary: the
 *   oldest instance, the tunnel the DNS record points at (else the oldest tunnel), the record
 *   with the expected hostname.
 * - Deletes. A live tenant with no declaration is deleted with its whole cascade in steps:
 *   workspace instances, tenant instance, workspace then tenant security groups, secret, DNS
 *   records, tunnels. A live workspace with no declaration under a declared tenant is deleted
 *   (instances, security groups). Unattributed resources never produce actions (sweep's job).
 * - Scope. With `inventory.scope.kind === 'tenants'`, only tenants matching the scope (by org id
 *   or slug) are planned; nothing outside it is compared or deleted. A partial desired state
 *   (`desired.partial`, loaded for a pull request) scopes the plan the same way when the inventory
 *   is not scoped: tenants that were not loaded are unknown, never undeclared.
 * - Guards. `emptyDesired`: no desired state, or zero tenants while tenants are live → blocking,
 *   and no action at all is planned. A partial state with zero tenants is not an empty fleet (the
 *   pull request removed the scoped tenants; the loader refuses a fleet with no tenant folder).
 *   `maxDeletes`, `maxTerminations`, `deletionProtection` and `declared` are the destruction
 *   guards of guards.ts, shared with apply's preflight (their rules are written there).
 *   `scope`: informational for scoped plans; blocking when the
 *   inventory was observed in another environment than the fleet declares (nothing planned).
 * - Rollout waves (redeploys only): tenants with any redeploy (their own or a workspace's) are
 *   ordered canaries first (wave 0), then the others by slug, split by `fleet.rollout.batches`
 *   — a count, or a percent of the tenants still remaining (rounded up, at least 1); tenants
 *   left after the listed batches form one final wave. A tenant's workspace redeploys share
 *   its wave.
 * - Order. Tenants by slug then org id; within a tenant, its own actions before its
 *   workspaces' (by workspace id); per target: replacement delete, create, repair, update,
 *   resize, start, redeploy, stop, delete. Apply must keep a target's actions in plan order.
 */
import { Tag, backupConfigTag, hostname, tunnelName, tunnelTarget, type BackupSettings } from '../contract.js';
import type { DesiredState, DesiredTenant, DesiredWorkspace, FleetSpec, Power, RolloutBatch } from '../desired/model.js';
import type { Inventory, LiveDnsRecord, LiveInstance, LiveSecret, LiveSecurityGroup, LiveTenant, LiveTunnel, LiveWorkspace } from '../live/model.js';
import { fingerprintInventory } from './fingerprint.js';
import { describeTarget, evaluateDestructionGuards, isTenantProtected, withBlocks } from './guards.js';
import {
  ACTION_KINDS,
  PLAN_FORMAT_VERSION,
  type Action,
  type ActionKind,
  type ActionTarget,
  type Attributes,
  type GuardFinding,
  type GuardKind,
  type Plan,
  type PlanNotice,
  type Step,
} from './model.js';
import { byAge, compareText, isExisting, isNotTerminated, isProtectedTag, normaliseHost, powerOf, sameInstanceType, tunnelsByAge } from './normalise.js';

export interface PlanOptions {
  /** Recorded as `createdAt`; the planner never reads the clock. */
  now: string;
  /** `--allow-deletes N`: tenant deletes up to N pass the maxDeletes guard. */
  allowDeletes?: number | undefined;
  /** `--allow-terminations N`: up to N instance terminations pass the maxTerminations guard. */
  allowTerminations?: number | undefined;
  /** `--replace`: `<slug>` (the tenant's instance) or `<slug>/<workspace name or id>`. */
  replace?: readonly string[] | undefined;
  /** The git revision a scoped (pull request) plan compared against; recorded in the basis. */
  changedSince?: string;
  /**
   * TENANT_BACKUP_* as apply would write them into each bundle; compared with the bundle's
   * BackupConfig tag. Undefined: not compared (a pull request's plan runs without the wiring).
   */
  backup?: BackupSettings;
}

export function planChanges(desired: DesiredState | undefined, inventory: Inventory, opts: PlanOptions): Plan {
  const findings: GuardFinding[] = [];
  const notices: PlanNotice[] = [];
  let actions: Action[] = [];
  const scope = planScope(desired, inventory);
  const inScope = scopeMatcher(scope);
  const liveTenants = inventory.tenants ?? {};
  const liveOrgsInScope = Object.keys(liveTenants)
    .filter((orgId) => inScope(orgId, liveTenants[orgId]?.slug))
    .filter((orgId) => hasAnythingLive(liveTenants[orgId]!));

  if (scope.kind === 'tenants') findings.push(scopeFinding(scope, desired, liveTenants));

  if (desired && desired.fleet.environment !== inventory.environment) {
    findings.push({
      guard: 'scope',
      blocking: true,
      message: `the inventory was observed in environment "${inventory.environment}" but the fleet declares "${desired.fleet.environment}"; nothing is planned`,
      actionIds: [],
    });
  } else if (!desired) {
    findings.push({
      guard: 'emptyDesired',
      blocking: true,
      message: 'the desired state could not be read; nothing is planned (an unreadable fleet is never planned as "delete everything")',
      actionIds: [],
    });
  } else if (desired.tenants.length === 0 && !desired.partial && liveOrgsInScope.length > 0) {
    findings.push({
      guard: 'emptyDesired',
      blocking: true,
      message: `the fleet declares no tenants while ${liveOrgsInScope.length} are live; nothing is planned (an empty fleet is never planned as "delete everything")`,
      actionIds: [],
    });
  } else if (desired.tenants.length > 0 || desired.partial) {
    const ctx = new PlanContext(desired.fleet, inventory.environment, new Set(opts.replace ?? []), opts.backup);
    actions = planFleet(ctx, desired, liveTenants, inScope);
    findings.push(...ctx.resolveFindings(actions));
    const guarded = evaluateDestructionGuards(actions, {
      inventory,
      desired,
      limits: desired.fleet.guards,
      allow: { deletes: opts.allowDeletes, terminations: opts.allowTerminations },
    });
    findings.push(...guarded.findings);
    // The planner's own holds (identity, groupInUse) stay beside the destruction guards'.
    const blocks = new Map(actions.map((a) => [a.id, [...(a.blockedBy ?? []), ...(guarded.blocks.get(a.id) ?? [])]]));
    actions = withBlocks(actions, blocks);
    notices.push(...ctx.notices());
  }

  findings.sort((a, b) => GUARD_RANK[a.guard] - GUARD_RANK[b.guard]);
  const summary = Object.fromEntries(ACTION_KINDS.map((k) => [k, 0])) as Record<ActionKind, number>;
  for (const a of actions) summary[a.kind] += 1;

  return {
    formatVersion: PLAN_FORMAT_VERSION,
    environment: desired?.fleet.environment ?? inventory.environment,
    createdAt: opts.now,
    basis: {
      commit: desired?.commit,
      desiredHash: desired?.hash ?? '',
      changedSince: opts.changedSince,
      scope: scope.kind === 'all' ? { kind: 'all' } : { kind: 'tenants', orgIds: [...scope.orgIds], slugs: [...scope.slugs] },
      fingerprints: fingerprintInventory(inventory, { actions }),
      replace: [...new Set(opts.replace ?? [])].sort(compareText),
    },
    actions,
    guards: findings,
    notices,
    summary,
  };
}

/** 0 nothing to do, 2 changes planned, 3 a guard would refuse (design.md exit codes). */
export function planExitCode(plan: Plan): 0 | 2 | 3 {
  if (plan.guards.some((g) => g.blocking)) return 3;
  return plan.actions.length > 0 ? 2 : 0;
}

const GUARD_RANK: Record<GuardKind, number> = {
  emptyDesired: 0,
  scope: 1,
  identity: 2,
  maxDeletes: 3,
  maxTerminations: 4,
  deletionProtection: 5,
  declared: 6,
  groupInUse: 7,
  duplicateLive: 8,
  volumeShrink: 9,
};

/** Per-target order of action kinds; a replacement's delete goes first, a plain delete last. */
function actionRank(a: Action): number {
  if (a.kind === 'delete') return a.replacement ? 0 : 8;
  return { create: 1, repair: 2, update: 3, resize: 4, start: 5, redeploy: 6, stop: 7 }[a.kind];
}

export function targetKey(t: ActionTarget): string {
  return t.kind === 'tenant' ? `tenant:${t.orgId}` : `workspace:${t.orgId}:${t.workspaceId ?? ''}`;
}

/** Where each workspace id is declared and where it is live: a workspace found under another org moved. */
interface WorkspaceHomes {
  declared: Map<string, ActionTarget>;
  live: Map<string, ActionTarget[]>;
  /** Every live security group's owner (by its tags), to find an instance sitting in another's group. */
  groupOwners: Map<string, ActionTarget>;
}

class PlanContext {
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

function action(kind: ActionKind, target: ActionTarget, steps: Step[], before: Attributes | null, after: Attributes | null, reason: string): Action {
  return { id: `${kind}:${targetKey(target)}`, kind, target, steps, before, after, reason };
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
function block(a: Action, guard: GuardKind): void {
  a.blockedBy = [...(a.blockedBy ?? []), guard];
}

function planFleet(ctx: PlanContext, desired: DesiredState, liveTenants: Record<string, LiveTenant>, inScope: ScopeMatcher): Action[] {
  const declared = new Map<string, DesiredTenant>();
  for (const t of [...desired.tenants].sort((a, b) => compareText(a.spec.slug, b.spec.slug) || compareText(a.spec.orgId, b.spec.orgId))) {
    if (!declared.has(t.spec.orgId)) declared.set(t.spec.orgId, t);
  }
  ctx.homes = workspaceHomes(declared, liveTenants);
  const groups: { slug: string; orgId: string; actions: Action[] }[] = [];
  for (const [orgId, d] of declared) {
    const live = liveTenants[orgId];
    if (!inScope(orgId, d.spec.slug) && !inScope(orgId, live?.slug)) continue;
    groups.push({ slug: d.spec.slug, orgId, actions: planDeclaredTenant(ctx, d, live) });
  }
  for (const orgId of Object.keys(liveTenants)) {
    const live = liveTenants[orgId]!;
    if (declared.has(orgId) || !inScope(orgId, live.slug)) continue;
    const del = planTenantDelete(orgId, live);
    if (del) groups.push({ slug: del.target.slug, orgId, actions: [del] });
  }
  groups.sort((a, b) => compareText(a.slug, b.slug) || compareText(a.orgId, b.orgId));
  const actions = groups.flatMap((g) => g.actions);
  flagSlugsLiveUnderAnotherOrg(ctx, actions, declared, liveTenants, inScope);
  flagGroupsInUse(ctx, actions, liveTenants);
  assignWaves(actions, declared, ctx.fleet.rollout.batches);
  return actions;
}

// ---------------------------------------------------------------------------------------------
// Declared tenants

function planDeclaredTenant(ctx: PlanContext, d: DesiredTenant, live: LiveTenant | undefined): Action[] {
  const { orgId, slug } = d.spec;
  const target: ActionTarget = { kind: 'tenant', orgId, slug };
  const instances = (live?.instances ?? []).filter(isExisting).sort(byAge);
  const groups = [...(live?.securityGroups ?? [])].sort((a, b) => compareText(a.groupId, b.groupId));
  const secrets = [...(live?.secrets ?? [])].sort((a, b) => compareText(a.arn, b.arn));
  const activeSecrets = secrets.filter((s) => !s.deletedDate);
  const scheduledSecret = secrets.find((s) => s.deletedDate);
  const tunnels = [...(live?.tunnels ?? [])].sort(tunnelsByAge);
  const records = [...(live?.dnsRecords ?? [])].sort((a, b) => compareText(a.id, b.id));
  const expectedHost = hostname(slug, ctx.fleet.appDomain);

  flagDuplicates(ctx, target, [
    ['instances', instances.map((i) => i.instanceId)],
    ['security groups', groups.map((g) => g.groupId)],
    ['secrets', activeSecrets.map((s) => s.arn)],
    ['tunnels', tunnels.map((t) => t.id)],
    ['DNS records', records.map((r) => r.id)],
  ]);

  const record = records.find((r) => normaliseHost(r.name) === expectedHost) ?? records[0];
  const tunnel = (record && tunnels.find((t) => normaliseHost(record.content) === tunnelTarget(t.id))) ?? tunnels[0];
  const instance = instances[0];
  const secret = activeSecrets[0];
  const actions: Action[] = [];

  if (!instance && groups.length === 0 && !secret && tunnels.length === 0 && records.length === 0) {
    const steps: Step[] = [
      { resource: 'staleArtifacts', op: 'create' },
      { resource: 'tunnel', op: 'create' },
      { resource: 'dnsRecord', op: 'create' },
      { resource: 'ingress', op: 'create' },
      scheduledSecret ? { resource: 'secret', op: 'restore', id: scheduledSecret.arn } : { resource: 'secret', op: 'create' },
      { resource: 'securityGroup', op: 'create' },
      { resource: 'instance', op: 'create' },
      ...(d.spec.power === 'stopped' ? [{ resource: 'instance', op: 'stop' } as Step] : []),
    ];
    const reason = scheduledSecret
      ? 'declared, nothing live; its secret bundle is scheduled for deletion and is restored rather than regenerated'
      : 'declared, nothing live';
    actions.push(action('create', target, steps, null, tenantAttributes(d), reason));
  } else {
    const repair = planTenantRepair(d, target, { instance, hasGroup: groups.length > 0, secret, scheduledSecret, tunnel, record, expectedHost });
    if (repair) actions.push(repair);
    if (instance) actions.push(...planInstanceChanges(ctx, target, instance, instanceIntent(d)));
    const update = planTenantUpdate(ctx, d, target, { instance: actions.some((a) => a.replacement) ? undefined : instance, groups, secrets: activeSecrets, tunnel, record, expectedHost });
    if (update) actions.push(update);
  }

  const liveWorkspaces = live?.workspaces ?? {};
  const declaredWorkspaces = new Map<string, DesiredWorkspace>();
  for (const w of [...d.workspaces].sort((a, b) => compareText(a.spec.id, b.spec.id))) {
    if (!declaredWorkspaces.has(w.spec.id)) declaredWorkspaces.set(w.spec.id, w);
  }
  const workspaceActions: Action[] = [];
  for (const [id, w] of declaredWorkspaces) workspaceActions.push(...planDeclaredWorkspace(ctx, d, w, liveWorkspaces[id]));
  for (const id of Object.keys(liveWorkspaces)) {
    if (declaredWorkspaces.has(id)) continue;
    const del = planWorkspaceDelete(ctx, d.spec.slug, orgId, id, liveWorkspaces[id]!);
    if (del) workspaceActions.push(del);
  }
  workspaceActions.sort((a, b) => compareText(a.target.workspaceId ?? '', b.target.workspaceId ?? '') || actionRank(a) - actionRank(b));
  actions.sort((a, b) => actionRank(a) - actionRank(b));
  return [...actions, ...workspaceActions];
}

function tenantAttributes(d: DesiredTenant): Attributes {
  return {
    slug: d.spec.slug,
    instanceType: d.effective.instanceType,
    volumeGb: d.effective.volumeGb,
    ami: d.effective.ami,
    image: d.effective.image,
    power: d.spec.power,
    canary: d.spec.canary,
    deletionProtection: d.spec.deletionProtection,
  };
}

interface TenantParts {
  instance: LiveInstance | undefined;
  hasGroup: boolean;
  secret: LiveSecret | undefined;
  scheduledSecret: LiveSecret | undefined;
  tunnel: LiveTunnel | undefined;
  record: LiveDnsRecord | undefined;
  expectedHost: string;
}

function planTenantRepair(d: DesiredTenant, target: ActionTarget, p: TenantParts): Action | undefined {
  const steps: Step[] = [];
  const before: Attributes = {};
  const after: Attributes = {};
  const missing: string[] = [];
  const tunnelMissing = !p.tunnel;

  if (!p.tunnel) {
    steps.push({ resource: 'tunnel', op: 'create' });
    before.tunnel = 'absent';
    after.tunnel = 'present';
    missing.push('tunnel');
  }
  const nameWrong = p.record !== undefined && normaliseHost(p.record.name) !== p.expectedHost;
  const pointsAtTunnel =
    p.record !== undefined &&
    p.tunnel !== undefined &&
    p.record.type.toUpperCase() === 'CNAME' &&
    p.record.proxied &&
    normaliseHost(p.record.content) === tunnelTarget(p.tunnel.id);
  const ingress: Step = p.tunnel ? { resource: 'ingress', op: 'create', id: p.tunnel.id } : { resource: 'ingress', op: 'create' };
  if (!p.record) {
    steps.push({ resource: 'dnsRecord', op: 'create' }, ingress);
    before.dnsRecord = 'absent';
    after.dnsRecord = 'present';
    missing.push('DNS record (ingress is written with it)');
  } else if (tunnelMissing || (!pointsAtTunnel && !nameWrong)) {
    // A rename (nameWrong) re-points the record in the update action instead.
    steps.push({ resource: 'dnsRecord', op: 'modify', id: p.record.id }, ingress);
    before.dnsRecord = `${p.record.type} ${p.record.content}${p.record.proxied ? '' : ' (not proxied)'}`;
    after.dnsRecord = p.tunnel ? `CNAME ${tunnelTarget(p.tunnel.id)} (proxied)` : 'CNAME to the new tunnel (proxied)';
    missing.push('DNS record pointing at the tunnel (ingress is rewritten with it)');
  }
  if (!p.secret) {
    if (p.scheduledSecret) {
      steps.push({ resource: 'secret', op: 'restore', id: p.scheduledSecret.arn });
      before.bootstrapBundle = 'scheduled for deletion';
      missing.push('secret bundle (scheduled for deletion: restored, never regenerated)');
    } else {
      steps.push({ resource: 'secret', op: 'create' });
      before.bootstrapBundle = 'absent';
      missing.push('secret bundle');
    }
    after.bootstrapBundle = 'present';
  }
  const bundle = p.secret ?? p.scheduledSecret;
  if (tunnelMissing && bundle) steps.push({ resource: 'secret', op: 'modify', id: bundle.arn });
  if (!p.hasGroup) {
    steps.push({ resource: 'securityGroup', op: 'create' });
    before.securityGroup = 'absent';
    after.securityGroup = 'present';
    missing.push('security group');
  }
  if (!p.instance) {
    steps.push({ resource: 'instance', op: 'create' });
    if (d.spec.power === 'stopped') steps.push({ resource: 'instance', op: 'stop' });
    before.instance = 'absent';
    after.instance = 'present';
    missing.push('instance');
  } else if (tunnelMissing) {
    steps.push(...runOnInstance(p.instance.instanceId, powerOf(p.instance.state)));
  }
  if (steps.length === 0) return undefined;
  const tail = tunnelMissing && p.instance ? '; the new tunnel token is written to the bundle and the platform re-reads it' : '';
  return action('repair', target, steps, before, after, `partly provisioned: missing ${missing.join(', ')}${tail}`);
}

interface TenantTagged {
  instance: LiveInstance | undefined;
  groups: LiveSecurityGroup[];
  secrets: LiveSecret[];
  tunnel: LiveTunnel | undefined;
  record: LiveDnsRecord | undefined;
  expectedHost: string;
}

function planTenantUpdate(ctx: PlanContext, d: DesiredTenant, target: ActionTarget, p: TenantTagged): Action | undefined {
  const { orgId, slug } = d.spec;
  const steps: Step[] = [];
  const before: Attributes = {};
  const after: Attributes = {};
  const why: string[] = [];

  const expectedTunnelName = tunnelName(ctx.env, slug, orgId);
  if (p.tunnel && p.tunnel.name !== expectedTunnelName) {
    steps.push({ resource: 'tunnel', op: 'modify', id: p.tunnel.id });
    before.tunnelName = p.tunnel.name;
    after.tunnelName = expectedTunnelName;
    why.push('tunnel name');
  }
  if (p.tunnel && p.record && normaliseHost(p.record.name) !== p.expectedHost) {
    steps.push({ resource: 'dnsRecord', op: 'modify', id: p.record.id }, { resource: 'ingress', op: 'modify', id: p.tunnel.id });
    before.hostname = p.record.name;
    after.hostname = p.expectedHost;
    why.push('hostname');
  }
  const tagged: { id: string; tags: Record<string, string> }[] = [
    ...(p.instance ? [{ id: p.instance.instanceId, tags: p.instance.tags }] : []),
    ...p.groups.map((g) => ({ id: g.groupId, tags: g.tags })),
    ...p.secrets.map((s) => ({ id: s.arn, tags: s.tags })),
  ];
  let slugDiffers = false;
  let protectionDiffers = false;
  for (const r of tagged) {
    const liveSlug = r.tags?.[Tag.orgSlug];
    const liveProtected = isProtectedTag(r.tags);
    if (liveSlug !== slug && !slugDiffers) {
      slugDiffers = true;
      before.slug = liveSlug ?? null;
      after.slug = slug;
    }
    if (liveProtected !== d.spec.deletionProtection && !protectionDiffers) {
      protectionDiffers = true;
      before.deletionProtection = liveProtected;
      after.deletionProtection = d.spec.deletionProtection;
    }
    if (liveSlug !== slug || liveProtected !== d.spec.deletionProtection) steps.push({ resource: 'tags', op: 'modify', id: r.id });
  }
  if (slugDiffers) why.push(`${Tag.orgSlug} tag`);
  if (protectionDiffers) why.push(`${Tag.deletionProtection} tag`);
  const port = ctx.fleet.tenant.platformPort;
  for (const g of p.groups) {
    const open = cidrPorts(g);
    if (open === undefined || (open.length === 1 && open[0] === String(port))) continue;
    if (!('platformPort' in before)) {
      before.platformPort = open.length === 0 ? null : open.join(', ');
      after.platformPort = port;
      why.push('platform port rules');
    }
    steps.push({ resource: 'securityGroup', op: 'modify', id: g.groupId });
  }
  // Backup settings live in the bundle: rewrite it and let the platform re-read it, as for a new tunnel token.
  const bundle = p.secrets[0];
  if (ctx.backup !== undefined && bundle) {
    const want = backupConfigTag(orgId, ctx.backup);
    const have = bundle.tags?.[Tag.backupConfig] ?? 'off';
    if (have !== want) {
      steps.push({ resource: 'secret', op: 'modify', id: bundle.arn });
      if (p.instance) steps.push(...runOnInstance(p.instance.instanceId, powerOf(p.instance.state)));
      before.backups = have;
      after.backups = want;
      why.push('backup settings (TENANT_BACKUP_*)');
    }
  }
  if (steps.length === 0) return undefined;
  return action('update', target, steps, before, after, `${why.join(', ')} differ from the declaration`);
}

/**
 * The ports a tenant group opens to address ranges (CIDRs, prefix lists): by contract exactly the
 * platform port, from the VPC CIDR (tcp/22 comes only from the EIC group, a group source). "8080",
 * or "udp 0-65535" for anything that is not a single tcp port. Undefined when rules were not observed.
 */
function cidrPorts(g: LiveSecurityGroup): string[] | undefined {
  if (g.ingress === undefined) return undefined;
  const ports = g.ingress
    .filter((r) => !r.source.startsWith('sg:'))
    .map((r) => (r.protocol === 'tcp' && r.fromPort !== undefined && r.fromPort === r.toPort ? String(r.fromPort) : `${r.protocol} ${r.fromPort ?? ''}-${r.toPort ?? ''}`));
  return [...new Set(ports)].sort(compareText);
}

// ---------------------------------------------------------------------------------------------
// Instance-level changes shared by tenants and workspaces

interface InstanceIntent {
  instanceType: string;
  volumeGb: number;
  ami: string;
  power: Power;
  /** undefined: not compared; otherwise the image the `Image` tag must show. */
  image: string | undefined;
  /** Reasons this instance cannot be changed in place beyond AMI and volume (workspaces). */
  replaceBecause: string[];
  /** Attributes of the replacement's create. */
  createAttributes: Attributes;
}

function instanceIntent(d: DesiredTenant): InstanceIntent {
  return {
    instanceType: d.effective.instanceType,
    volumeGb: d.effective.volumeGb,
    ami: d.effective.ami,
    power: d.spec.power,
    image: d.effective.image.trim() === '' ? undefined : d.effective.image.trim(),
    replaceBecause: [],
    createAttributes: tenantAttributes(d),
  };
}

function planInstanceChanges(ctx: PlanContext, target: ActionTarget, instance: LiveInstance, want: InstanceIntent): Action[] {
  const id = instance.instanceId;
  const replaceBecause = [...want.replaceBecause];
  const requested = ctx.replaceRequested(target);
  const olderAmi = want.ami !== '' && instance.imageId !== want.ami;

  if (replaceBecause.length > 0 || requested) {
    const ami = olderAmi ? ` (AMI ${instance.imageId} → ${want.ami})` : '';
    const why = replaceBecause.length > 0
      ? `replacement: ${replaceBecause.join('; ')} cannot change in place${requested ? ` (also requested with --replace ${replaceName(target)})` : ''}${ami}`
      : `replacement requested with --replace ${replaceName(target)}${ami}`;
    const del = action('delete', target, [{ resource: 'instance', op: 'delete', id }], { instanceId: id, ami: instance.imageId, volumeGb: instance.volumeGb ?? null, instanceType: instance.instanceType }, null, why);
    const createSteps: Step[] = [{ resource: 'instance', op: 'create' }];
    if (want.power === 'stopped') createSteps.push({ resource: 'instance', op: 'stop' });
    const create = action('create', target, createSteps, null, want.createAttributes, why);
    del.replacement = true;
    create.replacement = true;
    return [del, create];
  }
  if (olderAmi) ctx.noteOlderAmi(target);

  const actions: Action[] = [];
  const livePower = powerOf(instance.state);
  const growVolume = instance.volumeGb !== undefined && want.volumeGb > instance.volumeGb;
  if (instance.volumeGb !== undefined && want.volumeGb < instance.volumeGb) {
    ctx.flag(
      'volumeShrink',
      false,
      `${describeTarget(target)}: its root volume is ${instance.volumeGb} GB, larger than the declared ${want.volumeGb} GB; EBS volumes cannot shrink, so it is kept as it is (only a new instance gets a smaller one)`,
      [target],
    );
  }
  const newType = !sameInstanceType(instance.instanceType, want.instanceType);
  if (newType || growVolume) {
    const steps: Step[] = [];
    const before: Attributes = {};
    const after: Attributes = {};
    const why: string[] = [];
    if (growVolume) {
      steps.push({ resource: 'volume', op: 'modify', id: instance.rootVolumeId ?? id });
      before.volumeGb = instance.volumeGb!;
      after.volumeGb = want.volumeGb;
      why.push(`root volume ${instance.volumeGb} GB → ${want.volumeGb} GB (grown in place)`);
    }
    if (newType) {
      if (livePower === 'running') steps.push({ resource: 'instance', op: 'stop', id });
      steps.push({ resource: 'instance', op: 'modify', id });
      if (want.power === 'running') steps.push({ resource: 'instance', op: 'start', id });
      before.instanceType = instance.instanceType;
      after.instanceType = want.instanceType;
      why.unshift(`instance type ${instance.instanceType} → ${want.instanceType}`);
    } else if (livePower !== want.power && want.power === 'running') {
      steps.push({ resource: 'instance', op: 'start', id });
    }
    // The partition and filesystem grow over SSM, which needs the instance running (start → run → stop when it is to be stopped).
    if (growVolume) steps.push(...runOnInstance(id, want.power));
    before.power = livePower;
    after.power = want.power;
    actions.push(action('resize', target, steps, before, after, why.join('; ')));
  } else if (livePower !== want.power) {
    const kind = want.power === 'running' ? 'start' : 'stop';
    // The live state (pending, stopping…) is in the reason; an attribute only one side has would
    // render as "state: running → (none)".
    actions.push(action(kind, target, [{ resource: 'instance', op: kind, id }], { power: livePower }, { power: want.power }, `declared ${want.power}, live ${instance.state}`));
  }
  const liveImage = instance.tags?.[Tag.image]?.trim();
  if (want.image !== undefined && liveImage !== want.image) {
    // The attributes show "image: old → new"; the reason says why, without repeating them.
    const why = liveImage === undefined || liveImage === '' ? 'no Image tag, so the image it runs is unknown' : 'the Image tag differs from the declared image';
    actions.push(action('redeploy', target, runOnInstance(id, want.power), { image: liveImage || null }, { image: want.image }, `${why}; pulled and recreated over SSM, no reboot`));
  }
  return actions;
}

/** SSM needs a running instance: one that is (or will be) stopped is started for the command and stopped again. */
function runOnInstance(instanceId: string, power: Power): Step[] {
  const run: Step = { resource: 'command', op: 'run', id: instanceId };
  if (power === 'running') return [run];
  return [{ resource: 'instance', op: 'start', id: instanceId }, run, { resource: 'instance', op: 'stop', id: instanceId }];
}

// ---------------------------------------------------------------------------------------------
// Workspaces

function planDeclaredWorkspace(ctx: PlanContext, tenant: DesiredTenant, w: DesiredWorkspace, live: LiveWorkspace | undefined): Action[] {
  const target: ActionTarget = { kind: 'workspace', orgId: tenant.spec.orgId, slug: tenant.spec.slug, workspaceId: w.spec.id, workspaceName: w.spec.name };
  const instances = (live?.instances ?? []).filter(isExisting).sort(byAge);
  const groups = [...(live?.securityGroups ?? [])].sort((a, b) => compareText(a.groupId, b.groupId));
  flagDuplicates(ctx, target, [
    ['instances', instances.map((i) => i.instanceId)],
    ['security groups', groups.map((g) => g.groupId)],
  ]);
  const instance = instances[0];
  const createAttributes: Attributes = {
    name: w.spec.name,
    runtime: w.spec.runtime,
    tier: w.effective.tier,
    instanceType: w.effective.instanceType,
    volumeGb: w.effective.volumeGb,
    ami: w.effective.ami,
    image: w.effective.image ?? null,
    power: w.spec.power,
  };
  const stopAfterCreate: Step[] = w.spec.power === 'stopped' ? [{ resource: 'instance', op: 'stop' }] : [];

  if (!instance && groups.length === 0) {
    const from = (ctx.homes.live.get(w.spec.id) ?? []).filter((t) => t.orgId !== target.orgId);
    const reason =
      from.length > 0
        ? `moved from ${from.map(describeOwner).join(', ')}: a new instance and security group are made here, and the old ones are deleted there (a workspace's VM is not carried across tenants)`
        : 'declared, nothing live';
    return [action('create', target, [{ resource: 'securityGroup', op: 'create' }, { resource: 'instance', op: 'create' }, ...stopAfterCreate], null, createAttributes, reason)];
  }
  if (!instance) {
    return [action('repair', target, [{ resource: 'instance', op: 'create' }, ...stopAfterCreate], { instance: 'absent' }, { instance: 'present' }, 'partly provisioned: missing instance')];
  }

  const actions: Action[] = [];
  // An instance in another tenant's or workspace's group (what a move under the old group names left) is moved into its own.
  const foreign = (instance.securityGroupIds ?? []).filter((g) => {
    if (groups.some((own) => own.groupId === g)) return false;
    const owner = ctx.homes.groupOwners.get(g);
    return owner !== undefined && targetKey(owner) !== targetKey(target);
  });
  if (groups.length === 0 || foreign.length > 0) {
    const steps: Step[] = groups.length === 0 ? [{ resource: 'securityGroup', op: 'create' }] : [];
    const before: Attributes = groups.length === 0 ? { securityGroup: 'absent' } : {};
    const after: Attributes = groups.length === 0 ? { securityGroup: 'present' } : {};
    const why = groups.length === 0 ? ['missing security group'] : [];
    if (foreign.length > 0) {
      steps.push({ resource: 'instance', op: 'modify', id: instance.instanceId });
      before.instanceGroups = foreign.map((g) => `${g} (${describeTarget(ctx.homes.groupOwners.get(g)!)})`).join(', ');
      after.instanceGroups = 'its own';
      why.push(`its instance sits in ${before.instanceGroups}; it is moved into its own group`);
    }
    actions.push(action('repair', target, steps, before, after, `partly provisioned: ${why.join('; ')}`));
  }
  const replaceBecause: string[] = [];
  const liveRuntime = instance.tags?.[Tag.runtime];
  if (liveRuntime !== undefined && liveRuntime !== w.spec.runtime) replaceBecause.push(`runtime ${liveRuntime} → ${w.spec.runtime}`);
  const liveImage = instance.tags?.[Tag.image]?.trim();
  const wantImage = w.effective.image?.trim() || undefined;
  if (wantImage === undefined && liveImage) replaceBecause.push(`leaving the containerised path (image ${liveImage})`);
  const intent: InstanceIntent = {
    instanceType: w.effective.instanceType,
    volumeGb: w.effective.volumeGb,
    ami: w.effective.ami,
    power: w.spec.power,
    image: wantImage,
    replaceBecause,
    createAttributes,
  };
  const changes = planInstanceChanges(ctx, target, instance, intent);
  actions.push(...changes);

  const replaced = changes.some((c) => c.replacement);
  const steps: Step[] = [];
  const before: Attributes = {};
  const after: Attributes = {};
  const tagged = [...(replaced ? [] : [{ id: instance.instanceId, tags: instance.tags, isInstance: true }]), ...groups.map((g) => ({ id: g.groupId, tags: g.tags, isInstance: false }))];
  const protect = tenant.spec.deletionProtection;
  for (const r of tagged) {
    const liveSlug = r.tags?.[Tag.orgSlug];
    const liveTier = r.isInstance ? r.tags?.[Tag.tier] : w.effective.tier;
    // The tenant's protection is stamped on its workspaces' resources; an absent tag reads as false.
    const liveProtected = isProtectedTag(r.tags);
    if (liveSlug !== tenant.spec.slug && !('slug' in before)) {
      before.slug = liveSlug ?? null;
      after.slug = tenant.spec.slug;
    }
    if (liveTier !== w.effective.tier) {
      before.tier = liveTier ?? null;
      after.tier = w.effective.tier;
    }
    if (liveProtected !== protect && !('deletionProtection' in before)) {
      before.deletionProtection = liveProtected;
      after.deletionProtection = protect;
    }
    if (liveSlug !== tenant.spec.slug || liveTier !== w.effective.tier || liveProtected !== protect) steps.push({ resource: 'tags', op: 'modify', id: r.id });
  }
  if (steps.length > 0) {
    const what = [
      ...('slug' in before ? [`${Tag.orgSlug} tag`] : []),
      ...('tier' in before ? [`${Tag.tier} tag`] : []),
      ...('deletionProtection' in before ? [`${Tag.deletionProtection} tag`] : []),
    ];
    actions.push(action('update', target, steps, before, after, `${what.join(', ')} differ from the declaration`));
  }
  return actions;
}

function planWorkspaceDelete(ctx: PlanContext, slug: string, orgId: string, workspaceId: string, live: LiveWorkspace): Action | undefined {
  const target: ActionTarget = { kind: 'workspace', orgId, slug, workspaceId };
  const instances = (live.instances ?? []).filter(isNotTerminated).sort(byAge);
  const groups = [...(live.securityGroups ?? [])].sort((a, b) => compareText(a.groupId, b.groupId));
  const steps: Step[] = [
    ...instances.map((i): Step => ({ resource: 'instance', op: 'delete', id: i.instanceId })),
    ...groups.map((g): Step => ({ resource: 'securityGroup', op: 'delete', id: g.groupId })),
  ];
  if (steps.length === 0) return undefined;
  const to = ctx.homes.declared.get(workspaceId);
  const reason =
    to && to.orgId !== orgId
      ? `moved to ${describeOwner(to)}: its instance and security group here are deleted, and new ones are made there (a workspace's VM is not carried across tenants)`
      : 'workspace is no longer declared in the fleet repository';
  // Deletion protection (its own tags and its tenant's) is judged in guards.ts.
  return action('delete', target, steps, { instances: instances.length, securityGroups: groups.length }, null, reason);
}

// ---------------------------------------------------------------------------------------------
// Undeclared tenants: the whole cascade

function planTenantDelete(orgId: string, live: LiveTenant): Action | undefined {
  const slug = live.slug ?? orgId;
  const target: ActionTarget = { kind: 'tenant', orgId, slug };
  const workspaceIds = Object.keys(live.workspaces ?? {}).sort(compareText);
  const steps: Step[] = [];
  let instanceCount = 0;
  let groupCount = 0;
  for (const wid of workspaceIds) {
    for (const i of (live.workspaces[wid]!.instances ?? []).filter(isNotTerminated).sort(byAge)) {
      steps.push({ resource: 'instance', op: 'delete', id: i.instanceId, workspaceId: wid });
      instanceCount += 1;
    }
  }
  for (const i of (live.instances ?? []).filter(isNotTerminated).sort(byAge)) {
    steps.push({ resource: 'instance', op: 'delete', id: i.instanceId });
    instanceCount += 1;
  }
  for (const wid of workspaceIds) {
    for (const g of [...(live.workspaces[wid]!.securityGroups ?? [])].sort((a, b) => compareText(a.groupId, b.groupId))) {
      steps.push({ resource: 'securityGroup', op: 'delete', id: g.groupId, workspaceId: wid });
      groupCount += 1;
    }
  }
  for (const g of [...(live.securityGroups ?? [])].sort((a, b) => compareText(a.groupId, b.groupId))) {
    steps.push({ resource: 'securityGroup', op: 'delete', id: g.groupId });
    groupCount += 1;
  }
  const secrets = (live.secrets ?? []).filter((s) => !s.deletedDate).sort((a, b) => compareText(a.arn, b.arn));
  for (const s of secrets) steps.push({ resource: 'secret', op: 'delete', id: s.arn });
  const records = [...(live.dnsRecords ?? [])].sort((a, b) => compareText(a.id, b.id));
  for (const r of records) steps.push({ resource: 'dnsRecord', op: 'delete', id: r.id });
  const tunnels = [...(live.tunnels ?? [])].sort(tunnelsByAge);
  for (const t of tunnels) steps.push({ resource: 'tunnel', op: 'delete', id: t.id });
  if (steps.length === 0) return undefined;

  const protectedLive = isTenantProtected(live);
  return action(
    'delete',
    target,
    steps,
    {
      slug,
      workspaces: workspaceIds.length,
      instances: instanceCount,
      securityGroups: groupCount,
      secrets: secrets.length,
      dnsRecords: records.length,
      tunnels: tunnels.length,
      deletionProtection: protectedLive,
    },
    null,
    'tenant is no longer declared in the fleet repository: its whole cascade is deleted',
  );
}

function hasAnythingLive(live: LiveTenant): boolean {
  if ((live.instances ?? []).some(isExisting)) return true;
  if ((live.securityGroups ?? []).length || (live.tunnels ?? []).length || (live.dnsRecords ?? []).length) return true;
  if ((live.secrets ?? []).some((s) => !s.deletedDate)) return true;
  return Object.values(live.workspaces ?? {}).some((w) => (w.instances ?? []).some(isExisting) || (w.securityGroups ?? []).length > 0);
}

// ---------------------------------------------------------------------------------------------
// Identity: workspaces that moved, slugs live under another org, groups still in use

function workspaceHomes(declared: Map<string, DesiredTenant>, liveTenants: Record<string, LiveTenant>): WorkspaceHomes {
  const homes: WorkspaceHomes = { declared: new Map(), live: new Map(), groupOwners: new Map() };
  for (const [orgId, d] of declared) {
    for (const w of d.workspaces) {
      if (!homes.declared.has(w.spec.id)) homes.declared.set(w.spec.id, { kind: 'tenant', orgId, slug: d.spec.slug });
    }
  }
  for (const orgId of Object.keys(liveTenants).sort(compareText)) {
    const t = liveTenants[orgId]!;
    const slug = t.slug ?? orgId;
    for (const g of t.securityGroups ?? []) homes.groupOwners.set(g.groupId, { kind: 'tenant', orgId, slug });
    for (const [wid, w] of Object.entries(t.workspaces ?? {})) {
      for (const g of w.securityGroups ?? []) homes.groupOwners.set(g.groupId, { kind: 'workspace', orgId, slug, workspaceId: wid });
      if (!(w.instances ?? []).some(isExisting) && (w.securityGroups ?? []).length === 0) continue;
      homes.live.set(wid, [...(homes.live.get(wid) ?? []), { kind: 'tenant', orgId, slug: t.slug ?? orgId }]);
    }
  }
  return homes;
}

/** Resources that hold a tenant's data or identity: a VM (its database) or its bundle of generated secrets. */
function holdsData(t: LiveTenant): boolean {
  if ((t.instances ?? []).some(isExisting) || (t.secrets ?? []).some((s) => !s.deletedDate)) return true;
  return Object.values(t.workspaces ?? {}).some((w) => (w.instances ?? []).some(isExisting));
}

/**
 * An orgId never changes in place: a declared slug live under another org that still holds a VM
 * or a bundle is an edited orgId (or a slug given to a new org before the old one was removed),
 * and planning it as "delete that org, create this one" would destroy the tenant's database and
 * let the create's stale-artifact cleanup take the live tenant's tunnel and DNS record. Refused,
 * naming both orgs. Leftovers that hold nothing (a purged org's tunnel or record) are still
 * cleaned as before.
 */
function flagSlugsLiveUnderAnotherOrg(
  ctx: PlanContext,
  actions: Action[],
  declared: Map<string, DesiredTenant>,
  liveTenants: Record<string, LiveTenant>,
  inScope: ScopeMatcher,
): void {
  for (const [orgId, d] of declared) {
    const slug = d.spec.slug;
    if (!inScope(orgId, slug)) continue;
    for (const other of Object.keys(liveTenants).sort(compareText)) {
      const live = liveTenants[other]!;
      if (other === orgId || live.slug !== slug || !holdsData(live)) continue;
      const elsewhere = declared.get(other);
      const file = d.source.file || `tenants/${slug}/tenant.yaml`;
      const how = elsewhere
        ? `org ${other} is declared as ${elsewhere.spec.slug} now: apply that rename first, then give the slug ${slug} to org ${orgId}`
        : `if the orgId was edited by mistake, restore orgId: ${other} in ${file}; if org ${other} is really gone and ${slug} is reused by a new org, remove the tenant's folder and apply (that deletes org ${other}'s tenant), then add it back with orgId ${orgId}`;
      const affected = actions.filter((a) => a.target.orgId === orgId || a.target.orgId === other);
      for (const a of affected) block(a, 'identity');
      ctx.flag(
        'identity',
        true,
        `tenant ${slug}: the fleet declares org ${orgId}, but ${slug} is live under org ${other}; an orgId never changes in place, and a delete of org ${other} with a create of org ${orgId} would destroy its VM and database, so this plan is refused — ${how}`,
        [...new Map(affected.map((a) => [targetKey(a.target), a.target])).values()],
      );
    }
  }
}

/**
 * A security group the plan deletes while an instance the plan keeps still uses it can never be
 * deleted (DependencyViolation until the deadline, on every apply): refused at plan time, naming
 * the instance. Instances shutting down or terminated let go by themselves and do not count.
 */
function flagGroupsInUse(ctx: PlanContext, actions: Action[], liveTenants: Record<string, LiveTenant>): void {
  const deleted = new Set(actions.flatMap((a) => a.steps).flatMap((s) => (s.resource === 'instance' && s.op === 'delete' && s.id ? [s.id] : [])));
  // A workspace repair moves its instance out of every group that is not its own.
  const leaving = new Set(
    actions.filter((a) => a.kind === 'repair' && a.target.kind === 'workspace').flatMap((a) => a.steps).flatMap((s) => (s.resource === 'instance' && s.op === 'modify' && s.id ? [s.id] : [])),
  );
  const users = new Map<string, { instance: LiveInstance; owner: ActionTarget }[]>();
  const use = (instance: LiveInstance, owner: ActionTarget) => {
    if (!isExisting(instance) || deleted.has(instance.instanceId)) return;
    for (const g of instance.securityGroupIds ?? []) users.set(g, [...(users.get(g) ?? []), { instance, owner }]);
  };
  for (const orgId of Object.keys(liveTenants).sort(compareText)) {
    const t = liveTenants[orgId]!;
    const slug = t.slug ?? orgId;
    for (const i of t.instances ?? []) use(i, { kind: 'tenant', orgId, slug });
    for (const [wid, w] of Object.entries(t.workspaces ?? {})) for (const i of w.instances ?? []) use(i, { kind: 'workspace', orgId, slug, workspaceId: wid });
  }
  for (const a of actions) {
    if (a.kind !== 'delete') continue;
    for (const s of a.steps) {
      if (s.resource !== 'securityGroup' || s.op !== 'delete' || !s.id) continue;
      const holders = (users.get(s.id) ?? []).filter((h) => !leaving.has(h.instance.instanceId));
      if (holders.length === 0) continue;
      block(a, 'groupInUse');
      const named = holders.map((h) => `${h.instance.instanceId} (${describeTarget(h.owner)}, ${h.instance.state})`).join(', ');
      ctx.flag(
        'groupInUse',
        true,
        `${describeTarget(a.target)}: its security group ${s.id} is still used by instance ${named}, which this plan does not delete, so the group could not be deleted (DependencyViolation); detach the instance from the group (give it a group of its own) or delete it, then plan again`,
        [a.target],
      );
    }
  }
}

function describeOwner(t: ActionTarget): string {
  return `tenant ${t.slug} (org ${t.orgId})`;
}

// ---------------------------------------------------------------------------------------------
// Guards, waves, scope

function flagDuplicates(ctx: PlanContext, target: ActionTarget, kinds: [string, string[]][]): void {
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

function assignWaves(actions: Action[], declared: Map<string, DesiredTenant>, batches: RolloutBatch[]): void {
  const redeploying = [...new Set(actions.filter((a) => a.kind === 'redeploy').map((a) => a.target.orgId))];
  const canaries = redeploying.filter((o) => declared.get(o)?.spec.canary === true);
  const rest = redeploying
    .filter((o) => declared.get(o)?.spec.canary !== true)
    .sort((a, b) => compareText(declared.get(a)?.spec.slug ?? '', declared.get(b)?.spec.slug ?? '') || compareText(a, b));
  const wave = new Map<string, number>(canaries.map((o) => [o, 0]));
  let next = 0;
  let waveNo = 1;
  for (const b of batches ?? []) {
    const remaining = rest.length - next;
    if (remaining <= 0) break;
    const size = batchSize(b, remaining);
    for (const o of rest.slice(next, next + size)) wave.set(o, waveNo);
    next += size;
    waveNo += 1;
  }
  for (const o of rest.slice(next)) wave.set(o, waveNo);
  for (const a of actions) if (a.kind === 'redeploy') a.wave = wave.get(a.target.orgId) ?? 0;
}

function batchSize(b: RolloutBatch, remaining: number): number {
  const raw = 'count' in b ? b.count : Math.ceil((remaining * b.percent) / 100);
  if (!Number.isFinite(raw)) return remaining;
  return Math.min(remaining, Math.max(1, Math.floor(raw)));
}

type ScopeMatcher = (orgId: string, slug: string | undefined) => boolean;

/** The inventory's scope; else a partial desired state's (its loaded org ids and requested slugs). */
function planScope(desired: DesiredState | undefined, inventory: Inventory): Inventory['scope'] {
  if (inventory.scope.kind === 'tenants' || !desired?.partial) return inventory.scope;
  return { kind: 'tenants', orgIds: desired.tenants.map((t) => t.spec.orgId).sort(compareText), slugs: [...desired.partial.slugs] };
}

function scopeMatcher(scope: Inventory['scope']): ScopeMatcher {
  if (scope.kind === 'all') return () => true;
  const orgIds = new Set(scope.orgIds);
  const slugs = new Set(scope.slugs);
  return (orgId, slug) => orgIds.has(orgId) || (slug !== undefined && slugs.has(slug));
}

function scopeFinding(scope: { orgIds: string[]; slugs: string[] }, desired: DesiredState | undefined, live: Record<string, LiveTenant>): GuardFinding {
  const known = new Set<string>();
  for (const t of desired?.tenants ?? []) known.add(t.spec.orgId).add(t.spec.slug);
  for (const [orgId, t] of Object.entries(live)) {
    known.add(orgId);
    if (t.slug) known.add(t.slug);
  }
  const names = [...new Set([...scope.orgIds, ...scope.slugs])].sort(compareText);
  const unknown = names.filter((n) => !known.has(n));
  const note = unknown.length > 0 ? `; not declared nor live: ${unknown.join(', ')}` : '';
  return {
    guard: 'scope',
    blocking: false,
    message: `plan limited to ${scopeLabel(scope)}; tenants outside the scope are neither compared nor deleted${note}`,
    actionIds: [],
  };
}

/**
 * "1 tenant (acme)": a scope names each tenant by slug (its folder) and, when declared, by org id
 * too, so tenants are counted by slug; a scope given by org ids alone counts those.
 */
export function scopeLabel(scope: { orgIds: readonly string[]; slugs: readonly string[] }): string {
  const names = scope.slugs.length > 0 ? [...new Set(scope.slugs)] : [...new Set(scope.orgIds)];
  const listed = names.length <= 5 ? ` (${names.join(', ')})` : '';
  return `${names.length} tenant${names.length === 1 ? '' : 's'}${listed}`;
}

export { describeTarget };
