import { applyCommand } from './apply.js';
import type { CommandModule } from './command.js';
import { historyCommand } from './history.js';
import { planCommand } from './plan.js';
import { validateCommand } from './validate.js';

/** Every subcommand, in the order `--help` lists them. */
export const commands: readonly CommandModule[] = [validateCommand, planCommand, applyCommand, historyCommand];
