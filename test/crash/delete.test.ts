/**
 * SIGKILL during the cascade delete of a removed tenant (globex: its workspace instance, then its
 * own, both groups, the bootstrap secret, the CNAME, the tunnel), at seeded points, just before a
 * call or right after it took effect; then apply again: nothing of globex is left and the other
 * tenants are untouched. CRASH_SEED=<seed> reproduces a run's points.
 */
import { describe, expect, it } from 'vitest';
import { awsKind, cloudflareKind, crashSeed, pickKillPoints, seededRandom, type CrashWorld } from './crash-world.js';
import { crashAndConverge, killPointName } from './scenario.js';

const seed = crashSeed();
const points = pickKillPoints(
  [
    awsKind('TerminateInstances', 'TerminateInstances', 2),
    awsKind('DeleteSecurityGroup', 'DeleteSecurityGroup', 2),
    awsKind('DeleteSecret', 'DeleteSecret', 1),
    cloudflareKind('DNS record delete', 'DELETE', /^\/zones\/[^/]+\/dns_records\/[^/]+$/, 1),
    cloudflareKind('tunnel delete', 'DELETE', /^\/accounts\/[^/]+\/cfd_tunnel\/[^/]+$/, 1),
  ],
  seededRandom(seed),
);

async function applyThenRemoveGlobex(w: CrashWorld): Promise<void> {
  const first = await w.tenantform(['apply', '--auto-approve']);
  expect(first.code, first.stderr).toBe(0);
  w.removeTenant('globex');
}

describe.concurrent(`SIGKILL during a cascade delete, then apply again (seed ${seed})`, () => {
  for (const point of points) {
    it(`${killPointName(point)}: nothing of globex is left (seed ${seed})`, { timeout: 120_000 }, () => crashAndConverge(point, applyThenRemoveGlobex));
  }
});
