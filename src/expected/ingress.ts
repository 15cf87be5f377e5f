/**
 * The tunnel ingress tenantform writes: the tenant's hostname → the platform service on the VM,
 * then the catch-all 404 cloudflared requires as the last rule. Pure, so apply (which PUTs it)
 * and drift (which compares a GET with it) derive it once.
 */

export interface IngressRule {
  hostname: string;
  service: string;
}

export const CATCH_ALL_SERVICE = 'http_status:404';

export function platformService(platformPort: number): string {
  return `http://localhost:${platformPort}`;
}

export function desiredIngress(host: string, platformPort: number): IngressRule[] {
  // The SDK types require `hostname`; "" is the catch-all cloudflared accepts.
  return [
    { hostname: host, service: platformService(platformPort) },
    { hostname: '', service: CATCH_ALL_SERVICE },
  ];
}

/** Rules as one comparable string: `*` and a missing hostname are the catch-all, hostnames compare case-insensitively. */
export function normaliseIngress(rules: ReadonlyArray<{ hostname?: string | null; service?: string | null; path?: string | null }>): string {
  return JSON.stringify(
    rules.map((r) => ({
      hostname: r.hostname === '*' ? '' : (r.hostname ?? '').toLowerCase(),
      service: r.service ?? '',
      path: r.path ?? '',
    })),
  );
}
