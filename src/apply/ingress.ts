/**
 * Remote-managed tunnel ingress: the tenant's hostname → the platform service on the VM, then the
 * catch-all 404 that cloudflared requires as the last rule. PUT is a full replace, so ensure
 * compares first and writes only when the rules differ.
 */
import { hostname } from '../contract.js';
import { desiredIngress, normaliseIngress as normalise } from '../expected/ingress.js';
import { cloudflareCall, errorStatus } from './cloud.js';
import type { ActContext } from './context.js';
import type { TenantIdentity } from './tunnel.js';

export { CATCH_ALL_SERVICE, desiredIngress, type IngressRule } from '../expected/ingress.js';

export async function ensureIngress(ctx: ActContext, tenant: TenantIdentity, tunnelId: string): Promise<{ changed: boolean }> {
  const { client, accountId } = ctx.cloudflare;
  const host = hostname(tenant.slug, ctx.wiring.appDomain);
  const want = desiredIngress(host, ctx.fleet.tenant.platformPort);
  const resource = `tunnel ${tunnelId} ingress`;

  // What the API returns for a never-configured tunnel is unverified; treat a 404 as "no rules".
  const current = await cloudflareCall(ctx, 'get tunnel configuration', resource, () =>
    client.zeroTrust.tunnels.cloudflared.configurations.get(tunnelId, { account_id: accountId }),
  ).catch((e: unknown) => {
    if (errorStatus(e) === 404) return null;
    throw e;
  });
  const have = current?.config?.ingress ?? [];
  if (normalise(have) === normalise(want)) {
    ctx.audit({ kind: 'ingress', resourceId: tunnelId, orgId: tenant.orgId, state: 'adopted', details: { hostname: host } });
    return { changed: false };
  }
  await cloudflareCall(ctx, 'update tunnel configuration', resource, () =>
    client.zeroTrust.tunnels.cloudflared.configurations.update(tunnelId, { account_id: accountId, config: { ingress: want } }),
  );
  ctx.audit({
    kind: 'ingress',
    resourceId: tunnelId,
    orgId: tenant.orgId,
    state: have.length === 0 ? 'created' : 'updated',
    details: { hostname: host, service: want[0]!.service },
  });
  return { changed: true };
}
