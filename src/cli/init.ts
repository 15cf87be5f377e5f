/**
 * `tenantform init [DIR]`: scaffold a fleet repository (fleet.yaml with every field described,
 * tenants/, .gitignore, CODEOWNERS, a README for operators, the schemas and the CI workflows).
 * Exit 0 when written, 1 when any of those files already exists (then nothing is written).
 */
import { Option } from 'commander';
import { resolve } from 'node:path';
import { initFleet } from '../app/init.js';
import { ExitCode } from '../errors.js';
import type { CommandModule } from './command.js';
import type { Io } from './io.js';

interface InitOptions {
  environment: 'dev' | 'staging' | 'prod';
  region: string;
  appDomain: string;
  tenantImage: string;
}

export function runInit(io: Io, dir: string | undefined, opts: InitOptions): number {
  const result = initFleet({ dir: resolve(io.cwd, dir ?? '.'), settings: opts });
  if (!result.ok) {
    io.stderr(
      `tenantform init: ${result.dir} already holds ${result.conflicts.length === 1 ? 'a file' : 'files'} init would write, so nothing was written:\n` +
        result.conflicts.map((f) => `  ${f}\n`).join('') +
        'init never overwrites; move them away or run it in an empty folder.\n',
    );
    return ExitCode.error;
  }
  io.stdout(
    `Scaffolded a fleet repository in ${result.dir}:\n${result.written.map((f) => `  ${f}\n`).join('')}` +
      'Next: edit fleet.yaml, add tenants/<slug>/tenant.yaml, set the CI secrets and variables (README.md), and run tenantform validate.\n',
  );
  return ExitCode.ok;
}

export const initCommand: CommandModule = {
  register(program, io, done) {
    program
      .command('init')
      .argument('[dir]', 'folder to scaffold (default: the working directory; created when missing)')
      .description('scaffold a fleet repository: fleet.yaml, tenants/, CI workflows, CODEOWNERS, README (never overwrites)')
      .addOption(new Option('--environment <env>', 'the MOLECULE_ENV the fleet provisions into').choices(['dev', 'staging', 'prod']).default('dev'))
      .option('--region <region>', 'AWS region of the fleet', 'us-east-2')
      .option('--app-domain <domain>', 'DNS zone tenants are served under (<slug>.<domain>)', 'tenants.example.com')
      .option('--tenant-image <image>', 'platform container image every tenant runs', 'ghcr.io/example/platform:1.0.0')
      .action((dir: string | undefined, opts: InitOptions) => done(runInit(io, dir, opts)));
  },
};
