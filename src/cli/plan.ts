/**
 * `tenantform plan`: the plan use case (src/app/plan.ts) with the process's environment, then
 * render, and optionally save the plan for apply. Exit 0 nothing to do, 2 changes, 3 a guard
 * would refuse, 1 error (invalid fleet, wiring, cloud failure).
 */
import { cloudSessionFactory } from './cloud-session.js';
import { Option } from 'commander';
import { planFleet, type PlanResult } from '../app/plan.js';
import { Interruption } from '../app/interrupt.js';
import { ExitCode } from '../errors.js';
import { planExitCode } from '../plan/diff.js';
import { writePlanFile } from '../plan/file.js';
import type { Plan } from '../plan/model.js';
import { redactor as defaultRedactor, redactWriters, type Redactor } from '../redact.js';
import { renderPlanJson } from '../render/plan-json.js';
import { renderPlanMarkdown } from '../render/plan-markdown.js';
import { renderPlanText } from '../render/plan-text.js';
import type { CommandModule } from './command.js';
import type { Io } from './io.js';
import { addRepoOption, collect, parsePositiveInt, registerDbSecrets, repoDir } from './options.js';
import { abortOnSignals } from './signals.js';
import { printInvalidInput } from './invalid-input.js';

export interface PlanCommandOptions {
  repo?: string;
  json?: boolean;
  markdown?: boolean;
  out?: string;
  changedSince?: string;
  allowEmpty?: boolean;
  allowDeletes?: string;
  allowTerminations?: string;
  allowReplacements?: string;
  replace?: string[];
}

export interface PlanRun {
  code: number;
  /** Absent when the fleet or the wiring was invalid (exit 1). */
  plan?: Plan;
}

/** Runs the plan command and returns its exit code with the plan (the benchmark reads it). */
export async function runPlan(io: Io, opts: PlanCommandOptions, redactor: Redactor = defaultRedactor): Promise<PlanRun> {
  redactor.registerEnv(io.env);
  // Plan opens no database, but an error quoting the environment must not show a URL's password.
  registerDbSecrets(io.env, redactor);
  const out = redactWriters(io, redactor);
  const dir = repoDir(io, opts.repo);
  const allowDeletes = opts.allowDeletes === undefined ? undefined : parsePositiveInt('--allow-deletes', opts.allowDeletes);
  const allowTerminations = opts.allowTerminations === undefined ? undefined : parsePositiveInt('--allow-terminations', opts.allowTerminations);
  const allowReplacements = opts.allowReplacements === undefined ? undefined : parsePositiveInt('--allow-replacements', opts.allowReplacements);

  // SIGINT/SIGTERM stop the observation (plan holds nothing, so the signal ends the process at once).
  const interrupt = abortOnSignals();
  let result: PlanResult;
  try {
    result = await planFleet({
      repoDir: dir,
      wiringEnv: io.env,
      clients: cloudSessionFactory(io.env),
      redactor,
      signal: interrupt.signal,
      ...(opts.changedSince !== undefined ? { changedSince: opts.changedSince } : {}),
      ...(opts.allowEmpty !== undefined ? { allowEmpty: opts.allowEmpty } : {}),
      ...(allowDeletes !== undefined ? { allowDeletes } : {}),
      ...(allowTerminations !== undefined ? { allowTerminations } : {}),
      ...(allowReplacements !== undefined ? { allowReplacements } : {}),
      ...(opts.replace !== undefined ? { replace: opts.replace } : {}),
    });
  } catch (e) {
    if (e instanceof Interruption && e === interrupt.signal.reason) return { code: e.exitStatus };
    throw e;
  } finally {
    interrupt.handled();
    interrupt.dispose();
  }
  if (!result.ok) {
    printInvalidInput(out, result.diagnostics, { json: opts.json, dir });
    return { code: ExitCode.error };
  }
  const { plan } = result;
  out.stdout(opts.json ? renderPlanJson(plan) : opts.markdown ? renderPlanMarkdown(plan) : renderPlanText(plan, { color: io.color }));
  if (opts.out) await writePlanFile(opts.out, plan);
  return { code: planExitCode(plan), plan };
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
      .option('--allow-replacements <n>', 'let up to N instance replacements pass the maxReplacements guard')
      .option('--replace <target>', 'replace the instance of <slug> or <slug>/<workspace> (repeatable); saved with --out', collect)
      .action(async (opts: PlanCommandOptions) => done((await runPlan(io, opts)).code));
  },
};
