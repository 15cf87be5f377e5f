/**
 * SIGKILL during the example fleet's first apply, at seeded points spread over the whole create
 * sequence (tunnel, DNS record, ingress, bootstrap secret, tenant group and its rules,
 * RunInstances, workspace groups and launches, stops), just before a call or right after it took
 * effect. With ClientToken idempotency off (moto's own behaviour), only find-before-create stands
 * between a re-apply and a duplicate. CRASH_SEED=<seed> reproduces a run's points.
 */
import { describe, it } from 'vitest';
import { awsKind, cloudflareKind, crashSeed, pickKillPoints, seededRandom } from './crash-world.js';
import { crashAndConverge, killPointName } from './scenario.js';

const seed = crashSeed();
// Occurrences in one apply of the example fleet: 4 tenants, 4 workspaces, 2 of them declared stopped.
const points = pickKillPoints(
  [
    cloudflareKind('tunnel create', 'POST', /^\/accounts\/[^/]+\/cfd_tunnel$/, 4),
    cloudflareKind('DNS record create', 'POST', /^\/zones\/[^/]+\/dns_records$/, 4),
    cloudflareKind('tunnel ingress', 'PUT', /^\/accounts\/[^/]+\/cfd_tunnel\/[^/]+\/configurations$/, 4),
    awsKind('CreateSecret', 'CreateSecret', 4),
    // Tenant and workspace kinds sit next to each other so one is killed before, the other after.
    awsKind('CreateSecurityGroup (tenant)', 'CreateSecurityGroup', 4, 'tenant'),
    awsKind('CreateSecurityGroup (workspace)', 'CreateSecurityGroup', 4, 'workspace'),
    awsKind('AuthorizeSecurityGroupIngress', 'AuthorizeSecurityGroupIngress', 8),
    awsKind('RunInstances (tenant)', 'RunInstances', 4, 'tenant'),
    awsKind('RunInstances (workspace)', 'RunInstances', 4, 'workspace'),
    awsKind('StopInstances', 'StopInstances', 2),
  ],
  seededRandom(seed),
);

describe.concurrent(`SIGKILL during create, then apply again (seed ${seed})`, () => {
  for (const point of points) {
    it(`${killPointName(point)}: converges, one of everything (seed ${seed})`, { timeout: 120_000 }, () => crashAndConverge(point));
  }
});
