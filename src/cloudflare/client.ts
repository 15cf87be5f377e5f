/**
 * The official Cloudflare SDK client. CLOUDFLARE_BASE_URL (read by the SDK itself) points it at
 * the test double or the demo's emulator; CLOUDFLARE_API_TOKEN authenticates.
 */
import Cloudflare from 'cloudflare';
import { ConfigError } from '../errors.js';

export interface CloudflareContext {
  client: Cloudflare;
  accountId: string;
  zoneId: string;
}

export interface CloudflareClientOptions {
  apiToken: string | undefined;
  accountId: string | undefined;
  zoneId: string | undefined;
  /** SDK retries (it retries 408/409/429/5xx and connection errors, honouring retry-after). */
  maxRetries?: number;
  timeoutMs?: number;
  /** CLOUDFLARE_BASE_URL as set in the run's environment, when that is not process.env (the SDK reads process.env). */
  baseURL?: string;
  /**
   * Leave 429 answers to the caller's rate gate instead of the SDK's own retry (which waits out
   * retry-after outside any budget): the SDK then throws RateLimitError at once and keeps retrying
   * only 5xx answers and dropped connections. Apply sets this; its gate retries throttling.
   */
  leaveThrottlingToCaller?: boolean;
}

export function createCloudflareContext(opts: CloudflareClientOptions): CloudflareContext {
  const missing = (['apiToken', 'accountId', 'zoneId'] as const).filter((k) => !opts[k]);
  if (missing.length > 0) {
    const names = { apiToken: 'CLOUDFLARE_API_TOKEN', accountId: 'CLOUDFLARE_ACCOUNT_ID', zoneId: 'CLOUDFLARE_ZONE_ID' };
    throw new ConfigError(`missing ${missing.map((k) => names[k]).join(', ')}`, { operation: 'configure Cloudflare' });
  }
  const client = new Cloudflare({
    apiToken: opts.apiToken!,
    ...(opts.baseURL ? { baseURL: opts.baseURL } : {}),
    maxRetries: opts.maxRetries ?? 2,
    timeout: opts.timeoutMs ?? 30_000,
    // Pin the API version so requests do not change meaning with the calendar (the SDK defaults to today).
    apiVersion: '2026-01-01',
    ...(opts.leaveThrottlingToCaller ? { fetch: noSdkRetryOn429 } : {}),
  } as ConstructorParameters<typeof Cloudflare>[0]);
  return { client, accountId: opts.accountId!, zoneId: opts.zoneId! };
}

/** The SDK obeys `x-should-retry: false` before anything else (src/client.ts shouldRetry in SDK 7). */
const noSdkRetryOn429: typeof fetch = async (input, init) => {
  const res = await fetch(input, init);
  if (res.status !== 429) return res;
  const headers = new Headers(res.headers);
  headers.set('x-should-retry', 'false');
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
};
