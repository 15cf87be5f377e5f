import { TenantformError } from '../errors.js';

/**
 * Why a run was stopped from outside, as the abort reason a caller gives a use case: the CLI
 * makes one from SIGINT/SIGTERM, a daemon from a cancelled job. It carries the exit status the
 * run is recorded with (128 + the signal's number for a signal, as a shell reports it), and `why`
 * ("interrupted by SIGINT"), which the lease puts in front of the work it stops.
 */
export class Interruption extends TenantformError {
  constructor(
    readonly why: string,
    readonly exitStatus: number,
  ) {
    super(why, { operation: 'run' });
  }
}
