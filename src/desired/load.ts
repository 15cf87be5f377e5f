/**
 * loadFleet: the fleet repository → DesiredState, or every problem found on the way.
 * Each file is read, parsed and schema-checked on its own (so one run reports everything),
 * then the cross-file rules run (unique identities, tiers that exist) and the effective
 * values are resolved. The state exists only when there is no error.
 */
import { resolve as resolvePath } from 'node:path';
import { hasErrors, sortDiagnostics, type Diagnostic } from './diagnostics.js';
import { buildFleet } from './fleet.js';
import { headCommit } from './git.js';
import { desiredHash } from './hash.js';
import { imageWarning } from './images.js';
import { discover, TENANTS_DIR, unplaced, type FileRef, type TenantFolder } from './layout.js';
import type { DesiredState, DesiredTenant, DesiredWorkspace, FleetSpec, Power, SourceLocation, TenantSpec, WorkspaceSpec } from './model.js';
import { amiPin, resolveTenant, resolveWorkspace, tierResolver, type TierResolution } from './resolve.js';
import { checkSchema, type Kind } from './schema.js';
import { locate, parseYaml, readText, type ParsedYaml } from './source.js';

export interface LoadOptions {
  /** Accept a repository without tenants (otherwise an error: an empty fleet plans deleting everything). */
  allowEmpty?: boolean;
  /**
   * The environment, when the caller will provision (plan, apply, validate --env): EC2_AMI then
   * serves as the default AMI, and a missing default AMI is an error instead of a warning.
   */
  env?: NodeJS.ProcessEnv;
  /**
   * Load the workspaces of these tenants only (plus fleet.yaml and every tenant.yaml, so orgIds
   * stay checked for uniqueness across the whole repository). The state is marked `partial`.
   */
  only?: { slugs: string[] };
}

export interface LoadResult {
  state: DesiredState | undefined;
  diagnostics: Diagnostic[];
  /** fleet.yaml as loaded, even when other files have errors (so wiring checks can compare with it). */
  fleet?: FleetSpec;
}

type Position = { line: number; col: number };

interface TenantHead {
  spec: TenantSpec;
  file: string;
  at: { slug: Position; orgId: Position };
}

/** One tenant folder; `head` is missing when tenant.yaml is unusable (its workspaces are still checked). */
interface LoadedTenant {
  head: TenantHead | undefined;
  selected: boolean;
  workspaces: LoadedWorkspace[];
}

interface LoadedWorkspace {
  spec: WorkspaceSpec;
  file: string;
  at: { id: Position; tier: Position; runtime: Position };
}

const AMI_ID = /^ami-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;

export async function loadFleet(repoDir: string, opts: LoadOptions = {}): Promise<LoadResult> {
  const diagnostics: Diagnostic[] = [];
  const only = opts.only ? new Set(opts.only.slugs) : undefined;
  const layout = discover(resolvePath(repoDir), diagnostics, only);
  if (!layout) return { state: undefined, diagnostics };

  let fleet: FleetSpec | undefined;
  if (layout.fleetFile) {
    const parsed = readDocument(layout.fleetFile, 'Fleet', diagnostics);
    if (parsed) fleet = buildFleet(parsed, diagnostics);
  }

  const tenants: LoadedTenant[] = [];
  for (const folder of layout.tenantFolders) {
    const tenant = folder.tenantFile ? loadTenant(folder, folder.tenantFile, diagnostics) : undefined;
    const workspaces = folder.workspaces.map((w) => loadWorkspace(w, diagnostics)).filter((w) => w !== undefined);
    tenants.push({ head: tenant, selected: folder.selected, workspaces });
  }

  if (layout.tenantFolders.length === 0 && !opts.allowEmpty) {
    // The folder as a whole, not a line in it: there is no file to point into.
    diagnostics.push(
      unplaced(`${TENANTS_DIR}/`, 'The fleet declares no tenants; an empty fleet would plan deleting every tenant, so pass --allow-empty if that is what you mean.'),
    );
  }

  checkUnique(tenants, diagnostics);
  const selected = fleet
    ? resolveAll(
        fleet,
        tenants.filter((t) => t.selected),
        opts,
        diagnostics,
      )
    : undefined;
  sortDiagnostics(diagnostics);
  if (!selected || hasErrors(diagnostics)) return { state: undefined, diagnostics, ...(fleet ? { fleet } : {}) };
  return {
    fleet: fleet!,
    state: {
      fleet: fleet!,
      tenants: selected,
      hash: desiredHash(fleet!, selected),
      commit: await headCommit(layout.root),
      ...(only ? { partial: { slugs: [...only].sort() } } : {}),
    },
    diagnostics,
  };
}

/** Reads, parses and schema-checks one file; undefined when it is unusable. */
function readDocument(ref: FileRef, kind: Kind, diagnostics: Diagnostic[]): ParsedYaml | undefined {
  const text = readText(ref.abs, ref.file, diagnostics);
  if (text === undefined) return undefined;
  const parsed = parseYaml(ref.file, text, diagnostics);
  if (!parsed) return undefined;
  const declared = (parsed.value as { kind?: unknown } | null)?.kind;
  if (typeof parsed.value === 'object' && !Array.isArray(parsed.value) && typeof declared === 'string' && declared !== kind) {
    const { line, col } = locate(parsed, ['kind']);
    diagnostics.push({
      severity: 'error',
      file: ref.file,
      line,
      col,
      path: 'kind',
      message: `This file must hold a ${kind}, but it declares kind ${JSON.stringify(declared)}.`,
    });
    return undefined;
  }
  return checkSchema(kind, parsed, diagnostics) ? parsed : undefined;
}

function loadTenant(folder: TenantFolder, ref: FileRef, diagnostics: Diagnostic[]): TenantHead | undefined {
  const parsed = readDocument(ref, 'Tenant', diagnostics);
  if (!parsed) return undefined;
  const raw = parsed.value as { apiVersion: string; slug: string; orgId: string; canary?: boolean; power?: Power; deletionProtection?: boolean; instanceType?: string };
  const at = { slug: locate(parsed, ['slug']), orgId: locate(parsed, ['orgId']) };
  if (raw.slug !== folder.folder) {
    diagnostics.push({
      severity: 'error',
      file: ref.file,
      ...at.slug,
      path: 'slug',
      message: `The slug "${raw.slug}" does not match its folder ${folder.dir}; a tenant's slug is its folder name.`,
    });
    return undefined;
  }
  return {
    spec: {
      apiVersion: raw.apiVersion,
      slug: raw.slug,
      orgId: raw.orgId,
      canary: raw.canary ?? false,
      power: raw.power ?? 'running',
      deletionProtection: raw.deletionProtection ?? false,
      instanceType: raw.instanceType,
    },
    file: ref.file,
    at,
  };
}

function loadWorkspace(ref: FileRef & { name: string }, diagnostics: Diagnostic[]): LoadedWorkspace | undefined {
  const parsed = readDocument(ref, 'Workspace', diagnostics);
  if (!parsed) return undefined;
  const raw = parsed.value as { apiVersion: string; id: string; runtime: string; tier: string; power?: Power; image?: string };
  const warning = raw.image === undefined ? undefined : imageWarning(raw.image);
  if (warning) diagnostics.push({ severity: 'warning', file: ref.file, ...locate(parsed, ['image']), path: 'image', message: warning });
  return {
    spec: { apiVersion: raw.apiVersion, name: ref.name, id: raw.id, runtime: raw.runtime, tier: raw.tier, power: raw.power ?? 'running', image: raw.image },
    file: ref.file,
    at: { id: locate(parsed, ['id']), tier: locate(parsed, ['tier']), runtime: locate(parsed, ['runtime']) },
  };
}

/** Slugs, orgIds and workspace ids are identities: each may appear once in the repository. */
function checkUnique(tenants: LoadedTenant[], diagnostics: Diagnostic[]): void {
  const seen = new Map<string, string>();
  const claim = (namespace: string, value: string, file: string, at: Position, path: string, what: string) => {
    const key = `${namespace}\0${value}`;
    const first = seen.get(key);
    if (first === undefined) {
      seen.set(key, `${file}:${at.line}:${at.col}`);
      return;
    }
    diagnostics.push({
      severity: 'error',
      file,
      ...at,
      path,
      message: `${what} ${value} is already used at ${first}; ${namespace === 'ws' ? 'every workspace needs its own id' : `every tenant needs its own ${path}`}.`,
    });
  };
  for (const { head: t } of tenants) {
    if (!t) continue;
    claim('slug', t.spec.slug, t.file, t.at.slug, 'slug', 'The slug');
    claim('org', t.spec.orgId, t.file, t.at.orgId, 'orgId', 'The orgId');
  }
  for (const t of tenants) for (const w of t.workspaces) claim('ws', w.spec.id, w.file, w.at.id, 'id', 'The workspace id');
}

/** Applies tiers, floors, AMIs and images; adds notices where the effective value differs from the written one. */
function resolveAll(fleet: FleetSpec, tenants: LoadedTenant[], opts: LoadOptions, diagnostics: Diagnostic[]): DesiredTenant[] | undefined {
  const envAmi = opts.env?.EC2_AMI?.trim() || undefined;
  if (envAmi !== undefined && !AMI_ID.test(envAmi)) {
    diagnostics.push({
      severity: 'error',
      file: '',
      line: 0,
      col: 0,
      path: 'EC2_AMI',
      message: 'EC2_AMI is not an AMI id (ami- followed by 8 or 17 lower-case hexadecimal digits).',
    });
  }
  const defaultAmi = fleet.defaultAmi ?? (envAmi !== undefined && AMI_ID.test(envAmi) ? envAmi : undefined);
  const needsDefault = tenants.some((t) => t.head);
  if (defaultAmi === undefined && needsDefault) {
    diagnostics.push(
      opts.env
        ? {
            severity: 'error',
            file: 'fleet.yaml',
            line: 1,
            col: 1,
            path: 'defaultAmi',
            message: 'No default AMI: fleet.yaml sets no defaultAmi and EC2_AMI is not set, so tenants and runtimes without an AMI pin have nothing to boot.',
          }
        : {
            severity: 'warning',
            file: 'fleet.yaml',
            line: 1,
            col: 1,
            path: 'defaultAmi',
            message: 'fleet.yaml sets no defaultAmi, so tenants and runtimes without an AMI pin will use EC2_AMI, which must then be set when planning and applying.',
          },
    );
  }
  const tierOf = tierResolver(fleet);
  const tierNames = fleet.tiers.map((t) => t.name).join(', ');
  const unpinned = new Map<string, { first: LoadedWorkspace; count: number }>();
  const out: DesiredTenant[] = [];
  for (const t of tenants) {
    const workspaces: DesiredWorkspace[] = [];
    for (const w of t.workspaces) {
      const tier = tierOf(w.spec.tier);
      if (!tier) {
        diagnostics.push({
          severity: 'error',
          file: w.file,
          ...w.at.tier,
          path: 'tier',
          message: `Tier "${w.spec.tier}" is not in the fleet tier table (${tierNames}).`,
        });
        continue;
      }
      const effective = resolveWorkspace(fleet, tier, w.spec, defaultAmi ?? '');
      if (tier.effective !== tier.written) {
        diagnostics.push({
          severity: 'notice',
          file: w.file,
          ...w.at.tier,
          path: 'tier',
          message: `Tier ${tier.written.name} runs as ${tier.effective.name} (${tier.effective.instanceType}, ${tier.effective.volumeGb} GB) because ${tierMoveCause(fleet, tier)}.`,
        });
      }
      if (effective.volumeGb > tier.effective.volumeGb) {
        diagnostics.push({
          severity: 'notice',
          file: w.file,
          ...w.at.runtime,
          path: 'runtime',
          message: `The volume is raised from ${tier.effective.volumeGb} GB to ${effective.volumeGb} GB, the floor for the ${w.spec.runtime} runtime.`,
        });
      }
      if (amiPin(fleet, w.spec.runtime) === undefined) {
        const entry = unpinned.get(w.spec.runtime);
        if (entry) entry.count++;
        else unpinned.set(w.spec.runtime, { first: w, count: 1 });
      }
      workspaces.push({ spec: w.spec, effective, source: source(w.file, w.at.id) });
    }
    const head = t.head;
    if (head) out.push({ spec: head.spec, effective: resolveTenant(fleet, head.spec, defaultAmi ?? ''), workspaces, source: source(head.file, head.at.orgId) });
  }
  for (const [runtime, { first, count }] of unpinned) {
    const ami = defaultAmi ?? 'EC2_AMI';
    diagnostics.push({
      severity: 'warning',
      file: first.file,
      ...first.at.runtime,
      path: 'runtime',
      message: `Runtime ${runtime} has no AMI pin for ${fleet.region} in fleet.yaml, so its ${count} workspace${count === 1 ? '' : 's'} use${count === 1 ? 's' : ''} the default AMI (${ami}).`,
    });
  }
  return out;
}

/**
 * The real reason a tier runs as another. The clamp moves a tier only onto a bound, and bounds are
 * never reserved, so the two causes never combine: either the clamp moved it, or it was reserved.
 */
function tierMoveCause(fleet: FleetSpec, tier: TierResolution): string {
  if (tier.because.reserved === undefined) return `the fleet clamps tiers to ${fleet.tierClamp.min}..${fleet.tierClamp.max}`;
  return `${tier.because.reserved} is reserved (a reserved tier runs as the nearest usable tier above it, else below)`;
}

function source(file: string, at: Position): SourceLocation {
  return { file, line: at.line, col: at.col };
}
