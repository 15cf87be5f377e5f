import type { Command } from 'commander';
import type { Io } from './io.js';

/**
 * A subcommand registers itself on the program. Its action resolves to an exit code
 * (ExitCode in errors.ts); it throws TenantformError subclasses for predictable failures.
 */
export interface CommandModule {
  register(program: Command, io: Io, done: (code: number) => void): void;
}
