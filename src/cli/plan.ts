/**
 * `tenantform plan`: load the fleet, observe the environment read-only, diff, render, and
 * optionally save the plan for apply. Exit 0 nothing to do, 2 changes, 3 a guard would refuse,
 * 1 error (invalid fleet, wiring, cloud failure).
 *
 * With `--changed-since REF` only the tenants whose files changed are loaded in full and observed
 * (through tag, prefix and hostname filters), so a pull request that touches one tenant costs a
 * handful of API calls whatever the fleet's size.
 */
import { openCloudSession } from './cloud-session.js';
import { Option } from 'commander';
import { readWiring } from '../config/env.js';
import { changedScope } from '../desired/changed.js';
import { hasErrors, sortDiagnostics, type Diagnostic } from '../desired/diagnostics.js';
import { loadFleet } from '../desired/load.js';
import type { DesiredState } from '../desired/model.js';
import { ExitCode } from '../errors.js';
import type { Inventory } from '../live/model.js';
import { observe, type ObserveScope } from '../live/observe.js';
import { planChanges, planExitCode, unknownReplaceTargets } from '../plan/diff.js';
import { writePlanFile } from '../plan/file.js';
import type { Plan } from '../plan/model.js';
import { redactor, redactWriters } from '../redact.js';
import { buildReport, renderText as renderDiagnosticsText } from '../render/diagnostics.js';
import { renderInvalidInputJson } from '../render/error-json.js';
import { renderPlanJson } from '../render/plan-json.js';
import { renderPlanMarkdown } from '../render/plan-markdown.js';
import { renderPlanText } from '../render/plan-text.js';
import type { CommandModule } from './command.js';
import type { Io } from './io.js';
import { addRepoOption, collect, parsePositiveInt, parseReplace, repoDir } from './options.js';

export interface PlanCommandOptions {
  repo?: string;
  json?: boolean;
  markdown?: boolean;
  out?: string;
  changedSince?: string;
  allowEmpty?: boolean;
  allowDeletes?: string;
  allowTerminations?: string;
  replace?: string[];
}

/** Wiring that only provisioning needs; a read-only plan runs without it (e.g. in pull request CI). */
const APPLY_ONLY_VARIABLES = new Set(['SECRETS_ENCRYPTION_KEY', 'EC2_TENANT_IAM_PROFILE']);

export interface PlanRun {
  code: number;
  /** Absent when the fleet or the wiring was invalid (exit 1). */
  plan?: Plan;
}

/** Runs the plan command and returns its exit code with the plan (the benchmark reads it). */
export async function runPlan(io: Io, opts: PlanCommandOptions): Promise<PlanRun> {
  redactor.registerEnv(io.env);
  const out = redactWriters(io);
  const dir = repoDir(io, opts.repo);
  const allowDeletes = opts.allowDeletes === undefined ? undefined : parsePositiveInt('--allow-deletes', opts.allowDeletes);
  const allowTerminations = opts.allowTerminations === undefined ? undefined : parsePositiveInt('--allow-terminations', opts.allowTerminations);

  const scope = opts.changedSince === undefined ? undefined : await changedScope(dir, opts.changedSince);
  const narrowed = scope && !scope.all ? scope.slugs : undefined;

  const loaded = await loadFleet(dir, {
    allowEmpty: opts.allowEmpty ?? false,
    env: io.env,
    ...(narrowed ? { only: { slugs: narrowed } } : {}),
  });
  const diagnostics: Diagnostic[] = [...loaded.diagnostics];
  const wiring = readWiring(io.env, loaded.fleet);
  diagnostics.push(...wiring.diagnostics.filter((d) => d.severity === 'error' && !APPLY_ONLY_VARIABLES.has(d.path)));
  sortDiagnostics(diagnostics);
  const desired = loaded.state;
  const cloudflare = {
    apiToken: io.env.CLOUDFLARE_API_TOKEN?.trim() ?? '',
    accountId: io.env.CLOUDFLARE_ACCOUNT_ID?.trim() ?? '',
    zoneId: io.env.CLOUDFLARE_ZONE_ID?.trim() ?? '',
  };
  if (!desired || hasErrors(diagnostics)) {
    const report = buildReport(diagnostics, undefined);
    if (opts.json) out.stdout(renderInvalidInputJson(report.diagnostics, dir));
    out.stderr(renderDiagnosticsText(report, io.color));
    return { code: ExitCode.error };
  }

  const replace = parseReplace(opts.replace, (r) => unknownReplaceTargets(desired, r));
  const { fleet } = desired;
  const session = openCloudSession(io, { region: fleet.region, budgets: fleet.budgets, cloudflare });
  let inventory: Inventory;
  try {
    inventory = await observe(session.readers, {
      environment: fleet.environment,
      appDomain: fleet.appDomain,
      ...(narrowed ? { scope: observeScope(desired, narrowed) } : {}),
    });
  } finally {
    session.close();
  }

  const plan = planChanges(desired, inventory, {
    now: new Date().toISOString(),
    ...(allowDeletes !== undefined ? { allowDeletes } : {}),
    ...(allowTerminations !== undefined ? { allowTerminations } : {}),
    ...(replace.length > 0 ? { replace } : {}),
    ...(opts.changedSince !== undefined ? { changedSince: opts.changedSince } : {}),
    // Only with the provisioning wiring at hand: without it (a pull request's CI) the bundle content is not compared.
    ...(wiring.wiring ? { backup: wiring.wiring.backup } : {}),
  });
  out.stdout(opts.json ? renderPlanJson(plan) : opts.markdown ? renderPlanMarkdown(plan) : renderPlanText(plan, { color: io.color }));
  if (opts.out) await writePlanFile(opts.out, plan);
  return { code: planExitCode(plan), plan };
}

function observeScope(desired: DesiredState, slugs: string[]): ObserveScope {
  const wanted = new Set(slugs);
  return { slugs, orgIds: desired.tenants.filter((t) => wanted.has(t.spec.slug)).map((t) => t.spec.orgId) };
}

export const planCommand: CommandModule = {
  register(program, io, done) {
    addRepoOption(program.command('plan').description('observe the environment read-only and show what apply would change'))
      .addOption(new Option('--json', 'print the plan as JSON').conflicts('markdown'))
      .option('--markdown', 'print the plan as Markdown (for a pull request comment)')
      .option('--out <file>', 'save the plan (with its commit, desired-state hash and live fingerprints) for apply')
      .option('--changed-since <ref>', 'plan only the tenants whose files changed since this git ref (a pull request)')
      .option('--allow-empty', 'accept a fleet with no tenants')
      .option('--allow-deletes <n>', 'let up to N tenant deletes pass the maxDeletes guard')
      .option('--allow-terminations <n>', 'let up to N instance terminations (workspace deletes, replacements) pass the maxTerminations guard')
      .option('--replace <target>', 'replace the instance of <slug> or <slug>/<workspace> (repeatable); saved with --out', collect)
      .action(async (opts: PlanCommandOptions) => done((await runPlan(io, opts)).code));
  },
};
