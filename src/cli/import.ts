/**
 * `tenantform import`: adopt the fleet the control plane made. Without a mode it lists what would
 * be imported and what is held back; `--write` writes the fleet files; `--adopt` shows the
 * adoption plan and the plan that follows it, asks (on a terminal; `--auto-approve` elsewhere, as
 * apply), and stamps tenantform's tags and names.
 *
 * `--adopt` is a run in the audit store (`--db`, as apply) holding the environment's lease; every
 * step is a row (`history --tenant <slug>`).
 *
 * Exit codes: 0 done or nothing to import, 1 error (a file already existed, a tenant not declared,
 * not confirmed), 3 refused (the plan after adoption is not empty, or another run holds the
 * environment's lease), 4 a step failed (rerun to resume).
 */
import { Option } from 'commander';
import { importFleet, type AdoptionPreview, type ImportMode } from '../app/import.js';
import { ExitCode, InputError } from '../errors.js';
import { redactor as defaultRedactor, redactWriters, type Redactor } from '../redact.js';
import { renderImportJson } from '../render/import-json.js';
import { renderAdoptionPreview, renderAdoptionStep, renderImportText } from '../render/import-text.js';
import { cloudSessionFactory } from './cloud-session.js';
import type { CommandModule } from './command.js';
import type { Io } from './io.js';
import { openAuditStore } from '../store/index.js';
import { addDbOption, addRepoOption, dbFile, parsePositiveInt, repoDir } from './options.js';
import { printInvalidInput } from './invalid-input.js';

export interface ImportCommandOptions {
  repo?: string;
  db?: string;
  lockTtl?: string;
  bundleName?: string;
  write?: boolean;
  adopt?: boolean;
  autoApprove?: boolean;
  assumeDeclaredImages?: boolean;
  json?: boolean;
}

const PLACEHOLDER = /\{orgId\}/;

export async function runImport(io: Io, opts: ImportCommandOptions, redactor: Redactor = defaultRedactor): Promise<number> {
  redactor.registerEnv(io.env);
  const out = redactWriters(io, redactor);
  if (opts.write && opts.adopt)
    throw new InputError('pass --write or --adopt, not both: write the files, review and commit them, then adopt', {
      operation: 'read command line',
      resource: '--adopt',
    });
  const bundleName = opts.bundleName?.trim() ?? '';
  if (!PLACEHOLDER.test(bundleName)) {
    throw new InputError('give the control plane\'s bundle name with an {orgId} placeholder, e.g. --bundle-name "molecule/{env}/orgs/{orgId}/bootstrap"', {
      operation: 'read command line',
      resource: '--bundle-name',
    });
  }
  const mode: ImportMode = opts.write ? 'write' : opts.adopt ? 'adopt' : 'list';
  const dir = repoDir(io, opts.repo);
  // Adopt is a recorded run holding the environment's lease, as apply and sweep are.
  const dbPath = opts.adopt ? dbFile(io, opts, redactor) : undefined;
  const lockTtlMs = opts.lockTtl === undefined ? undefined : parsePositiveInt('--lock-ttl', opts.lockTtl) * 1000;
  const result = await importFleet({
    repoDir: dir,
    wiringEnv: io.env,
    clients: cloudSessionFactory(io.env),
    redactor,
    mode,
    bundleName,
    ...(dbPath === undefined ? {} : { openStore: () => openAuditStore(dbPath, { redactor }) }),
    lockTtlMs,
    ...(opts.assumeDeclaredImages ? { assumeDeclaredImages: true } : {}),
    confirm: (preview) => confirmed(io, out, opts, preview),
    onStep: (step, error) => {
      if (!opts.json) out.stderr(renderAdoptionStep(step, error));
    },
  });
  if (result.diagnostics) {
    printInvalidInput(out, result.diagnostics, { json: opts.json, dir });
    return result.code;
  }
  // A refused adoption was not shown by confirm: show why now.
  if (!opts.json && result.adoption && !result.adoption.confirmed && result.code === ExitCode.refused)
    out.stdout(renderAdoptionPreview(result.adoption, { color: io.color }));
  if (opts.json) out.stdout(renderImportJson(result));
  else out.stdout(renderImportText(result, mode));
  for (const w of result.auditWarnings ?? []) out.stderr(`warning: ${w}\n`);
  if (result.adoption?.failed) out.stderr('adoption stopped at a failed step; run import --adopt again to resume (what is done is kept)\n');
  else if (result.adoption?.confirmed)
    out.stdout(`Adopted: ${result.adoption.applied} step${result.adoption.applied === 1 ? '' : 's'} applied. Next: tenantform plan (should show no changes).\n`);
  return result.code;
}

async function confirmed(io: Io, out: Io, opts: ImportCommandOptions, preview: AdoptionPreview): Promise<boolean> {
  if (!opts.json) out.stdout(renderAdoptionPreview(preview, { color: io.color }));
  if (opts.autoApprove) return true;
  if (!io.isTTY || !io.readLine) {
    throw new InputError('not a terminal, so nothing can be confirmed; pass --auto-approve to adopt without asking', {
      operation: 'import --adopt',
      resource: 'confirmation',
    });
  }
  const answer = await io.readLine('\nAdopt these resources? Only "yes" is accepted: ');
  if (answer?.trim() === 'yes') return true;
  out.stderr('import cancelled; nothing was changed\n');
  return false;
}

export const importCommand: CommandModule = {
  register(program, io, done) {
    const cmd = program
      .command('import')
      .description("adopt the control plane's fleet: list it, --write its fleet files, then --adopt it (tags and names; nothing created or deleted)");
    addDbOption(addRepoOption(cmd))
      .option('--lock-ttl <seconds>', 'lease time-to-live with --adopt; renewed while running (default 60)')
      .option('--bundle-name <template>', "the control plane's bootstrap bundle name, with {orgId} (and {slug}, {env}) placeholders")
      .option('--write', 'write tenants/<slug>/tenant.yaml and workspace files (never overwrites)')
      .option('--adopt', "stamp tenantform's tags and names once the plan after adoption is empty")
      .option('--auto-approve', 'adopt without asking (required when stdin is not a terminal)')
      .option('--assume-declared-images', 'stamp the declared image as the Image tag where an instance has none (the control plane ran it)')
      .addOption(new Option('--json', 'print the result as JSON'))
      .action(async (opts: ImportCommandOptions) => done(await runImport(io, opts)));
  },
};
