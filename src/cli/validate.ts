import { Option } from 'commander';
import { validateFleet } from '../app/validate.js';
import { ExitCode } from '../errors.js';
import { redactor as defaultRedactor, redactWriters, type Redactor } from '../redact.js';
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
export async function runValidate(io: Io, opts: ValidateOptions, redactor: Redactor = defaultRedactor): Promise<number> {
  redactor.registerEnv(io.env);
  const out = redactWriters(io, redactor);
  const result = await validateFleet({
    repoDir: repoDir(io, opts.repo),
    allowEmpty: opts.allowEmpty ?? false,
    ...(opts.env ? { wiringEnv: io.env } : {}),
    redactor,
  });
  const report = buildReport(result.diagnostics, result.summary);
  const text = opts.json ? renderJson(report) : opts.format === 'github' ? renderGithub(report) : renderText(report, io.color);
  out.stdout(text);
  return report.valid ? ExitCode.ok : ExitCode.error;
}

export const validateCommand: CommandModule = {
  register(program, io, done) {
    addRepoOption(program.command('validate').description('check the fleet repository: schemas, rules, effective sizes (and with --env, the provisioning wiring)'))
      .option('--env', 'also check the provisioning wiring from the environment (never prints secret values)')
      .option('--allow-empty', 'accept a fleet with no tenants (plan and apply still never delete everything for an empty fleet)')
      .addOption(new Option('--format <format>', 'output format').choices(['text', 'github']).default('text'))
      .option('--json', 'print a machine-readable report instead')
      .action(async (opts: ValidateOptions) => done(await runValidate(io, opts)));
  },
};
