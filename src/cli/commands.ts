import type { CommandModule } from './command.js';

interface CommandEntry {
  name: string;
  load: () => Promise<CommandModule>;
}

/**
 * Every subcommand, in the order `--help` lists them. Loaded on demand: `validate` should not pay
 * for importing the AWS SDK, SQLite and the Cloudflare client that `apply` needs.
 */
export const commandEntries: readonly CommandEntry[] = [
  { name: 'validate', load: async () => (await import('./validate.js')).validateCommand },
  { name: 'plan', load: async () => (await import('./plan.js')).planCommand },
  { name: 'apply', load: async () => (await import('./apply.js')).applyCommand },
  { name: 'drift', load: async () => (await import('./drift.js')).driftCommand },
  { name: 'sweep', load: async () => (await import('./sweep.js')).sweepCommand },
  { name: 'history', load: async () => (await import('./history.js')).historyCommand },
  { name: 'init', load: async () => (await import('./init.js')).initCommand },
  { name: 'import', load: async () => (await import('./import.js')).importCommand },
  { name: 'iam-policy', load: async () => (await import('./iam-policy.js')).iamPolicyCommand },
  { name: 'serve', load: async () => (await import('./serve.js')).serveCommand },
];

/** The modules a command line needs: only the named subcommand's, or all of them for help and errors. */
export async function loadCommands(argv: readonly string[]): Promise<CommandModule[]> {
  const named = commandEntries.find((e) => e.name === argv[0]);
  return Promise.all((named ? [named] : commandEntries).map((e) => e.load()));
}
