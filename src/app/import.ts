/**
 * The import use case: find the fleet the control plane made (src/live/import, read-only), and
 * then, by mode:
 * - `list`: say what would be imported, what is held back and why (exit 0);
 * - `write`: write the fleet files of each importable tenant (src/app/import-files.ts); exit 1
 *   when a tenant's file already existed (that tenant is left as it is, the others are written);
 * - `adopt`: for the tenants the fleet repository declares, work out the adoption
 *   (src/app/import-adopt.ts), ask the planner about the inventory as it would be afterwards (with
 *   whatever tenantform already manages of those tenants), and refuse (exit 3) unless that plan
 *   has no action: then confirm, and stamp. A failed step ends the run (exit 4); a rerun resumes.
 *
 * A resource the control plane left without a complete set of tags holds back its org, whatever
 * the mode; it is listed with what it lacks.
 */
import { hasErrors, type Diagnostic } from '../desired/diagnostics.js';
import { loadFleet } from '../desired/load.js';
import type { DesiredState, FleetSpec } from '../desired/model.js';
import { ExitCode, TenantformError } from '../errors.js';
import { runAdoptionStep, type AdoptionStep } from '../apply/import-adopt.js';
import type { ImportIncomplete, ImportObservation, ImportTenant } from '../live/import/model.js';
import { joinInventory } from '../live/join.js';
import { observe } from '../live/observe.js';
import { emptyCallCounts } from '../live/readers.js';
import { planChanges } from '../plan/diff.js';
import type { Plan } from '../plan/model.js';
import type { Redactor } from '../redact.js';
import { planTenantAdoption } from './import-adopt.js';
import { adoptLocked, type LockedImportInput, type StepAudit } from './import-run.js';
import { tenantFiles, writeTenantFiles } from './import-files.js';
import { mergeInventories } from './import-merge.js';
import type { CloudSession, CloudSessionFactory, WiringEnv } from './ports.js';
import { canaryAccountSettings, cloudflareCredentials } from '../config/env.js';
import { accountOf, type Account } from '../accounts.js';
import { canaryRequest } from './accounts.js';
import { accountMismatch, importAccounts, observeImportAccounts } from './import-accounts.js';

export type ImportMode = 'list' | 'write' | 'adopt';

export interface ImportInput extends LockedImportInput {
  repoDir: string;
  wiringEnv: WiringEnv;
  clients: CloudSessionFactory;
  redactor: Redactor;
  mode: ImportMode;
  /** The control plane's bundle name, with `{orgId}`, `{slug}`, `{env}` placeholders. */
  bundleName: string;
  /** Stamp the declared image as `Image` where the instance carries none (the operator knows the control plane ran it). */
  assumeDeclaredImages?: boolean;
  /** Adopt: asked once the adoption and its plan are known; false stops with nothing changed. */
  confirm?: (adoption: AdoptionPreview) => Promise<boolean>;
  /** Adopt: each step as it settles. */
  onStep?: (step: AdoptionStep, error?: string) => void;
  now?: () => Date;
}

export interface ImportTenantView {
  orgId: string;
  slug: string;
  instanceId: string;
  workspaces: number;
  /** Why this tenant is not imported or adopted now; undefined when it is. */
  heldBack?: string;
  /** Set when the tenant lives in the canary account. */
  account?: Account;
}

export interface AdoptionPreview {
  steps: AdoptionStep[];
  /** The plan of the adopted tenants as it would be after adoption; adoption goes ahead only when it has no action. */
  plan: Plan;
}

export interface ImportResult {
  code: number;
  diagnostics?: Diagnostic[];
  environment?: string;
  tenants: ImportTenantView[];
  incomplete: ImportIncomplete[];
  alreadyManaged: number;
  written: string[];
  /** Files that already existed; their tenant's files were not written. */
  existing: string[];
  adoption?: AdoptionPreview & { applied: number; confirmed: boolean; failed?: string };
  /** Adopt: the audit run that recorded it (`history --run`). */
  runId?: string;
  /** Adopt: audit rows that could not be written (the adoption itself went on). */
  auditWarnings?: string[];
}

export async function importFleet(input: ImportInput): Promise<ImportResult> {
  const env = input.wiringEnv;
  input.redactor.registerEnv(env);
  const adopting = input.mode === 'adopt';
  const loaded = await loadFleet(input.repoDir, { allowEmpty: true, env });
  const fleet = loaded.fleet;
  const empty: ImportResult = { code: ExitCode.error, tenants: [], incomplete: [], alreadyManaged: 0, written: [], existing: [] };
  if (!fleet || (adopting && (!loaded.state || hasErrors(loaded.diagnostics)))) return { ...empty, diagnostics: loaded.diagnostics };

  if (adopting) return adoptLocked(input, loaded.state!, (audit) => importWith(input, fleet, loaded.state, audit));
  return importWith(input, fleet, loaded.state, undefined);
}

async function importWith(input: ImportInput, fleet: FleetSpec, desired: DesiredState | undefined, audit: StepAudit | undefined): Promise<ImportResult> {
  const env = input.wiringEnv;
  const empty: ImportResult = { code: ExitCode.error, tenants: [], incomplete: [], alreadyManaged: 0, written: [], existing: [] };
  const session = openSession(input, fleet);
  try {
    const observed = await observeImportAccounts(session, {
      environment: fleet.environment,
      appDomain: fleet.appDomain,
      vpcId: env.EC2_VPC_ID?.trim() || undefined,
      canaryVpcId: env.CANARY_VPC_ID?.trim() || undefined,
      bundleName: input.bundleName,
    });
    const base = { ...empty, code: ExitCode.ok, environment: fleet.environment, incomplete: observed.incomplete, alreadyManaged: observed.alreadyManaged };
    const views = tenantViews(observed);
    if (input.mode === 'list') return { ...base, tenants: views };
    if (input.mode === 'write') return { ...base, ...writeFiles(input.repoDir, fleet, observed, views) };
    return { ...base, ...(await adopt(input, session, desired!, observed, views, audit)) };
  } finally {
    session.close();
  }
}

function openSession(input: ImportInput, fleet: FleetSpec): CloudSession {
  const env = input.wiringEnv;
  const canary = canaryAccountSettings(env);
  return input.clients({
    region: fleet.region,
    budgets: fleet.budgets,
    cloudflare: cloudflareCredentials(env),
    ...(canary ? { canary: canaryRequest(canary, fleet.environment) } : {}),
  });
}

function tenantViews(observed: ImportObservation): ImportTenantView[] {
  const held = new Map<string, string>();
  for (const i of observed.incomplete) if (i.orgId && !held.has(i.orgId)) held.set(i.orgId, `${i.kind} ${i.id}: ${i.reason}`);
  return observed.tenants.map((t) => ({
    orgId: t.orgId,
    slug: t.slug,
    instanceId: t.instance.instanceId,
    workspaces: t.workspaces.length,
    ...(t.account ? { account: t.account } : {}),
    ...(held.has(t.orgId) ? { heldBack: held.get(t.orgId)! } : {}),
  }));
}

function writeFiles(repoDir: string, fleet: FleetSpec, observed: ImportObservation, views: ImportTenantView[]): Partial<ImportResult> {
  const written: string[] = [];
  const existing: string[] = [];
  let code: number = ExitCode.ok;
  for (const [k, t] of observed.tenants.entries()) {
    const view = views[k]!;
    if (view.heldBack) continue;
    const files = tenantFiles(fleet, t);
    if (!files.ok) {
      view.heldBack = files.reason;
      code = ExitCode.error;
      continue;
    }
    const out = writeTenantFiles(repoDir, files.files);
    if ('existing' in out) {
      existing.push(...out.existing);
      view.heldBack = `${out.existing.join(', ')} already exists; nothing of this tenant was written`;
      code = ExitCode.error;
    } else written.push(...out.written);
  }
  return { code, written, existing, tenants: views };
}

async function adopt(
  input: ImportInput,
  session: CloudSession,
  desired: DesiredState,
  observed: ImportObservation,
  views: ImportTenantView[],
  audit: StepAudit | undefined,
): Promise<Partial<ImportResult>> {
  const environment = desired.fleet.environment;
  const steps: AdoptionStep[] = [];
  const stepAccount = new Map<AdoptionStep, Account>();
  const adopted: { t: ImportTenant; orgId: string }[] = [];
  const projections = [];
  let code: number = ExitCode.ok;
  for (const [k, t] of observed.tenants.entries()) {
    const view = views[k]!;
    if (view.heldBack) continue;
    const d = desired.tenants.find((x) => x.spec.orgId === t.orgId);
    if (!d || d.spec.slug !== t.slug) {
      view.heldBack = d
        ? `declared as ${d.spec.slug} in ${d.source.file}, but live under the slug ${t.slug}`
        : `not declared in the fleet repository: run \`tenantform import --write\` first`;
      code = ExitCode.error;
      continue;
    }
    const elsewhere = accountMismatch(d.spec.canary, t.account, session.canary !== undefined, d.source.file);
    if (elsewhere) {
      view.heldBack = elsewhere;
      code = ExitCode.error;
      continue;
    }
    const a = planTenantAdoption(environment, t, d, input.assumeDeclaredImages ?? false);
    for (const step of a.steps) stepAccount.set(step, accountOf(t));
    if (a.problems.length > 0) {
      view.heldBack = a.problems.join('; ');
      code = ExitCode.error;
      continue;
    }
    steps.push(...a.steps);
    projections.push(a.projected);
    adopted.push({ t, orgId: t.orgId });
  }
  if (code !== ExitCode.ok || adopted.length === 0) return { code, tenants: views };

  const slugs = adopted.map((a) => a.t.slug).sort();
  const orgIds = adopted.map((a) => a.orgId).sort();
  const scope = { kind: 'tenants' as const, orgIds, slugs };
  const projected = joinInventory(
    {
      instances: projections.flatMap((p) => p.instances),
      securityGroups: projections.flatMap((p) => p.securityGroups),
      secrets: projections.flatMap((p) => p.secrets),
      tunnels: projections.flatMap((p) => p.tunnels),
      dnsRecords: projections.flatMap((p) => p.dnsRecords),
    },
    { environment, observedAt: (input.now ?? (() => new Date()))().toISOString(), scope, calls: emptyCallCounts() },
  );
  // What tenantform already manages of these tenants (an apply run after --write would have made duplicates).
  const accounts = importAccounts(session);
  let managed = await observe(session.readers, { environment, appDomain: desired.fleet.appDomain, scope: { slugs, orgIds } });
  for (const other of accounts.slice(1)) {
    // Cloudflare is one for both: its tunnels and records, read twice, merge by id.
    managed = mergeInventories(managed, await observe(other.readers, { environment, appDomain: desired.fleet.appDomain, scope: { slugs, orgIds } }));
  }
  const wanted = new Set(orgIds);
  const subset: DesiredState = { ...desired, tenants: desired.tenants.filter((d) => wanted.has(d.spec.orgId)), partial: { slugs } };
  const plan = planChanges(subset, mergeInventories(projected, managed), { now: projected.observedAt });
  const preview: AdoptionPreview = { steps, plan };
  if (plan.actions.length > 0 || plan.guards.some((g) => g.blocking)) {
    return { code: ExitCode.refused, tenants: views, adoption: { ...preview, applied: 0, confirmed: false } };
  }
  if (!(await (input.confirm ?? (async () => false))(preview))) return { code: ExitCode.error, tenants: views, adoption: { ...preview, applied: 0, confirmed: false } };

  const targetIn = (account: Account) => ({
    aws: accounts.find((x) => x.account === account)!.aws,
    cloudflare: session.cloudflare,
    registerSecret: (v: string) => input.redactor.register(v),
  });
  let applied = 0;
  for (const step of steps) {
    try {
      await runAdoptionStep(targetIn(stepAccount.get(step) ?? 'main'), step);
    } catch (err) {
      const failed = input.redactor.redact(err instanceof TenantformError ? err.detail : String(err));
      audit?.(step, failed);
      input.onStep?.(step, failed);
      return { code: ExitCode.partial, tenants: views, adoption: { ...preview, applied, confirmed: true, failed } };
    }
    applied++;
    audit?.(step);
    input.onStep?.(step);
  }
  return { code: ExitCode.ok, tenants: views, adoption: { ...preview, applied, confirmed: true } };
}
