/**
 * The official SDK pointed at a Cloudflare double, and a way to catch the error a call fails with.
 */
import Cloudflare, { APIError } from 'cloudflare';
import { expect } from 'vitest';
import type { CloudflareDouble } from '../support/cloudflare-double/index.js';

/** maxRetries defaults to 0 so that a failure is the answer to exactly one request. */
export function sdkFor(double: CloudflareDouble, maxRetries = 0): Cloudflare {
  return new Cloudflare({ apiToken: double.apiToken, baseURL: double.baseURL, maxRetries, apiVersion: '2026-01-01' });
}

export async function failureOf(call: Promise<unknown>): Promise<APIError> {
  const outcome = await call.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  if (outcome.ok) throw new Error(`expected the call to fail, it returned ${JSON.stringify(outcome.value)}`);
  expect(outcome.error).toBeInstanceOf(APIError);
  return outcome.error as APIError;
}

/** The first envelope error code of an SDK error. */
export function codeOf(error: APIError): number | undefined {
  return error.errors[0]?.code;
}
