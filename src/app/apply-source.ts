/**
 * What an apply works from, before it takes the lease: a saved plan (read and checked first,
 * when one is given), the fleet repository (when it is at hand) and the wiring.
 *
 * A saved plan (format 3) says everything apply needs to act — each action's intent and the
 * plan's settings — so it applies without the fleet repository: when the repository directory
 * has no fleet.yaml, the wiring is checked against the plan's environment, region and app
 * domain, the run records the plan's commit, and the guards are re-checked against the live
 * state with the plan's limits (the "delete of something still declared" guard needs the
 * repository, so it is re-checked only when the repository is there). With the repository at
 * hand it is loaded as before, and a saved plan must still match it (stale-plan check).
 */
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { readWiring, type Wiring } from '../config/env.js';
import { hasErrors, sortDiagnostics, type Diagnostic } from '../desired/diagnostics.js';
import { FLEET_FILE } from '../desired/layout.js';
import { loadFleet } from '../desired/load.js';
import type { DesiredState, Environment } from '../desired/model.js';
import { InputError } from '../errors.js';
import { readPlanFile } from '../plan/file.js';
import { planSettings, type PlanSettings } from '../plan/intent.js';
import type { Plan } from '../plan/model.js';
import { recordedCommit, type RecordedCommit } from './dirty-tree.js';
import type { ProgressSink, WiringEnv } from './ports.js';

export interface ApplySource {
  /** The fleet repository; undefined when a saved plan is applied without it. */
  desired: DesiredState | undefined;
  saved: Plan | undefined;
  wiring: Wiring;
  /** The saved plan's settings, else the fleet's. */
  settings: PlanSettings;
  environment: Environment;
  gitCommit: RecordedCommit;
}

export interface SourceInput {
  repoDir: string;
  wiringEnv: WiringEnv;
  planFile?: { path: string; name: string } | undefined;
  allowDirty?: boolean | undefined;
}

const ENVIRONMENTS: readonly string[] = ['dev', 'staging', 'prod'];

export async function loadApplySource(input: SourceInput, progress: ProgressSink): Promise<ApplySource | { diagnostics: Diagnostic[] }> {
  const env = input.wiringEnv;
  const saved = input.planFile ? await readPlanFile(input.planFile.path) : undefined;
  if (saved && !(await exists(join(input.repoDir, FLEET_FILE)))) return planOnly(input, saved, progress);

  // An empty repository loads, so that the planner's emptyDesired guard refuses it (exit 3)
  // rather than the loader's "no tenants" error: either way nothing is deleted.
  const loaded = await loadFleet(input.repoDir, { allowEmpty: true, env });
  const wiringResult = readWiring(env, loaded.fleet);
  const diagnostics = sortDiagnostics([...loaded.diagnostics, ...wiringResult.diagnostics.filter((d) => d.severity === 'error')]);
  if (!loaded.state || !wiringResult.wiring || hasErrors(diagnostics)) return { diagnostics };
  for (const d of wiringResult.diagnostics) if (d.severity === 'warning') progress({ kind: 'warning', message: d.message });
  const desired = loaded.state;
  return {
    desired,
    saved,
    wiring: wiringResult.wiring,
    // A saved plan acts with the settings it was made with (the stale-plan check makes sure the fleet has not changed since).
    settings: saved?.settings ?? planSettings(desired.fleet),
    environment: desired.fleet.environment,
    gitCommit: await recordedCommit(input.repoDir, input.allowDirty ?? false, progress),
  };
}

async function planOnly(input: SourceInput, saved: Plan, progress: ProgressSink): Promise<ApplySource | { diagnostics: Diagnostic[] }> {
  const name = input.planFile!.name;
  const settings = saved.settings;
  if (!settings || !ENVIRONMENTS.includes(saved.environment)) {
    throw new InputError(`was made without a readable fleet, so it cannot be applied without the fleet repository (no ${FLEET_FILE} in ${input.repoDir}); re-plan`, {
      operation: 'apply',
      resource: `plan ${name}`,
    });
  }
  const environment = saved.environment as Environment;
  const wiringResult = readWiring(input.wiringEnv, { environment, region: settings.region, appDomain: settings.appDomain });
  const errors = wiringResult.diagnostics.filter((d) => d.severity === 'error');
  if (!wiringResult.wiring || errors.length > 0) return { diagnostics: sortDiagnostics(errors) };
  for (const d of wiringResult.diagnostics) if (d.severity === 'warning') progress({ kind: 'warning', message: d.message });
  return {
    desired: undefined,
    saved,
    wiring: wiringResult.wiring,
    settings,
    environment,
    gitCommit: {
      commit: saved.basis.commit,
      note: `no ${FLEET_FILE} in ${input.repoDir}: applying plan ${name} as it was made (commit ${saved.basis.commit?.slice(0, 12) ?? 'none'}); its guards are re-checked against the live state`,
    },
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
