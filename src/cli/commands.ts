import type { CommandModule } from './command.js';

/** Every subcommand, in the order `--help` lists them. */
export const commands: readonly CommandModule[] = [];
