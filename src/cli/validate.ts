import { Option } from 'commander';
import { readWiring } from '../config/env.js';
import { hasErrors, sortDiagnostics } from '../desired/diagnostics.js';
import { loadFleet } from '../desired/load.js';
import { ExitCode } from '../errors.js';
import { redactor, redactWriters } from '../redact.js';
import { buildReport, renderGithub, renderJson, renderText } from '../render/diagnostics.js';
import type { CommandModule } from './command.js';
import type { Io } from './io.js';
import { addRepoOption, repoDir } from './options.js';

interface ValidateOptions {
  repo?: string;
  env?: boolean;
  allowEmpty?: boolean;
  format: 'text' | 'github';
  json?: boolean;
}

/** `tenantform validate`: exit 0 when the fleet repository (and with --env, the wiring) is valid, else 1. */
export async function runValidate(io: Io, opts: ValidateOptions): Promise<number> {
  redactor.registerEnv(io.env);
  const out = redactWriters(io);
  const { state, diagnostics, fleet } = await loadFleet(repoDir(io, opts.repo), {
    allowEmpty: opts.allowEmpty ?? false,
    ...(opts.env ? { env: io.env } : {}),
  });
  if (opts.env) {
    const wiring = readWiring(io.env, fleet);
    diagnostics.push(...wiring.diagnostics);
    sortDiagnostics(diagnostics);
  }
  const report = buildReport(
    diagnostics,
    state && !hasErrors(diagnostics)
      ? {
          tenants: state.tenants.length,
          workspaces: state.tenants.reduce((n, t) => n + t.workspaces.length, 0),
          hash: state.hash,
          commit: state.commit,
        }
      : undefined,
  );
  const text = opts.json ? renderJson(report) : opts.format === 'github' ? renderGithub(report) : renderText(report, io.color);
  out.stdout(text);
  return report.valid ? ExitCode.ok : ExitCode.error;
}

export const validateCommand: CommandModule = {
  register(program, io, done) {
    addRepoOption(
      program
        .command('validate')
        .description('check the fleet repository: schemas, rules, effective sizes (and with --env, the provisioning wiring)'),
    )
      .option('--env', 'also check the provisioning wiring from the environment (never prints secret values)')
      .option('--allow-empty', 'accept a fleet with no tenants (plan and apply still never delete everything for an empty fleet)')
      .addOption(new Option('--format <format>', 'output format').choices(['text', 'github']).default('text'))
      .option('--json', 'print a machine-readable report instead')
      .action(async (opts: ValidateOptions) => done(await runValidate(io, opts)));
  },
};
