/**
 * One error class per failure kind. Every error names the operation and the resource it was
 * working on, and keeps the underlying cause, so a user sees "what, on what, why" and never a
 * stack trace for a predictable failure (the CLI prints `message` only for these classes).
 * Everything thrown in src/ is one of them (test/errors/typed-throws.test.ts checks it with the
 * compiler); a failed invariant is an InternalError, which the CLI reports as a bug: one line
 * naming the run, the stack only with TENANTFORM_DEBUG=1.
 */
export const ExitCode = {
  ok: 0,
  error: 1,
  changes: 2,
  refused: 3,
  partial: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface ErrorContext {
  /** What tenantform was doing, e.g. "create tunnel", "read fleet.yaml". */
  operation: string;
  /** The resource it was doing it to, e.g. "tenant acme (org 5f…)", "tenants/acme/tenant.yaml". */
  resource?: string;
  cause?: unknown;
}

export class TenantformError extends Error {
  readonly operation: string;
  readonly resource: string | undefined;
  /** The "why" alone, without operation and resource (for a caller that re-states those). */
  readonly detail: string;
  readonly exitCode: ExitCode = ExitCode.error;

  constructor(detail: string, ctx: ErrorContext) {
    const where = ctx.resource ? ` ${ctx.resource}` : '';
    super(`${ctx.operation}${where}: ${detail}`, ctx.cause === undefined ? undefined : { cause: ctx.cause });
    this.name = new.target.name;
    this.operation = ctx.operation;
    this.resource = ctx.resource;
    this.detail = detail;
  }
}

/** The fleet repository or a command line argument is wrong; the user must fix input. */
export class InputError extends TenantformError {}

/** The environment wiring (variables, credentials, endpoints) is missing or inconsistent. */
export class ConfigError extends TenantformError {}

/** A call to AWS or Cloudflare failed after retries. */
export class CloudError extends TenantformError {}

/**
 * A second AWS account could not be reached: its role could not be assumed (refused, or STS not
 * answering). Its message names the role; every call in that account fails with this one error.
 */
export class AccountUnavailable extends CloudError {}

/** A safety guard refused to proceed (deletes over the limit, protected tenant, stale plan, lock held). */
export class GuardRefusal extends TenantformError {
  override readonly exitCode: ExitCode = ExitCode.refused;
}

/** A deadline passed while waiting for the cloud (e.g. an instance stuck in shutting-down). */
export class DeadlineExceeded extends TenantformError {}

/**
 * An internal invariant failed (an impossible state, a caller breaking a function's contract):
 * a bug in tenantform, not something the user can fix by changing input or wiring. The CLI
 * reports it as a bug, like any error that is not a TenantformError.
 */
export class InternalError extends TenantformError {}

/** True for an error the user cannot act on: an InternalError or anything not a TenantformError. */
export function isBug(e: unknown): boolean {
  return !(e instanceof TenantformError) || e instanceof InternalError;
}

const runIds = new WeakMap<object, string>();

/**
 * Remembers which run a thrown value escaped from, so the CLI can name the run in a bug report
 * (the audit store has its row) without the error classes knowing about runs.
 */
export function tagRunId(e: unknown, runId: string): void {
  if (typeof e === 'object' && e !== null && !runIds.has(e)) runIds.set(e, runId);
}

export function runIdOf(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null ? runIds.get(e) : undefined;
}

/** Short description of any thrown value, for messages; never includes a stack. */
export function describeCause(cause: unknown): string {
  if (cause instanceof Error) {
    const code = (cause as { name?: string; Code?: string }).Code ?? cause.name;
    return code && code !== 'Error' && !cause.message.startsWith(code) ? `${code}: ${cause.message}` : cause.message;
  }
  return String(cause);
}
