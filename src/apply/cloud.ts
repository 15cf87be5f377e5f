/**
 * The one path from act steps to the cloud: calls go through the context's gate (budgets,
 * throttle retries), and failures become CloudError naming the operation and resource, with the
 * message passed through the redactor so no secret can leave in an error.
 */
import { CloudError, describeCause } from '../errors.js';
import type { ActContext, AwsService } from './context.js';

/** A failed call; `code` is the AWS error name or the Cloudflare error code(s), for callers to branch on. */
export class ActCallError extends CloudError {
  readonly code: string | undefined;
  readonly status: number | undefined;
  constructor(detail: string, operation: string, resource: string, cause: unknown) {
    super(detail, { operation, resource, cause });
    this.code = errorCode(cause);
    this.status = errorStatus(cause);
  }
}

export async function awsCall<T>(ctx: ActContext, service: AwsService, action: string, resource: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await ctx.call.aws(service, action, fn);
  } catch (e) {
    throw wrap(ctx, action, resource, e);
  }
}

export async function cloudflareCall<T>(ctx: ActContext, op: string, resource: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await ctx.call.cloudflare(op, fn);
  } catch (e) {
    throw wrap(ctx, op, resource, e);
  }
}

function wrap(ctx: ActContext, operation: string, resource: string, e: unknown): CloudError {
  if (e instanceof CloudError) return e;
  return new ActCallError(ctx.redactor.redact(describeCause(e)), operation, resource, e);
}

/**
 * AWS: the exception name (`InvalidGroup.NotFound`, `ResourceExistsException`, …).
 * Cloudflare: the first API error code as a string (`1013`, `81053`), else undefined.
 */
export function errorCode(e: unknown): string | undefined {
  if (e instanceof ActCallError) return e.code;
  if (typeof e !== 'object' || e === null) return undefined;
  const errors = (e as { errors?: unknown }).errors;
  if (Array.isArray(errors) && errors.length > 0) {
    const code = (errors[0] as { code?: unknown }).code;
    if (code !== undefined) return String(code);
  }
  const named = (e as { Code?: unknown; name?: unknown }).Code ?? (e as { name?: unknown }).name;
  return typeof named === 'string' && named !== 'Error' ? named : undefined;
}

export function errorStatus(e: unknown): number | undefined {
  if (e instanceof ActCallError) return e.status;
  if (typeof e !== 'object' || e === null) return undefined;
  const status = (e as { status?: unknown }).status ?? (e as { $metadata?: { httpStatusCode?: unknown } }).$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

export function hasCode(e: unknown, ...codes: string[]): boolean {
  const code = errorCode(e);
  return code !== undefined && codes.includes(code);
}

/** A short, redacted summary for audit details. */
export function auditableError(ctx: ActContext, e: unknown): string {
  return ctx.redactor.redact(e instanceof Error ? e.message : String(e)).slice(0, 500);
}
