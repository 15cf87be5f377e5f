/**
 * Defaults for everything optional in fleet.yaml. Rates come from the published limits
 * (shared notes/limits.md): EC2 token buckets per API category, Secrets Manager writes
 * 50/s, Cloudflare 1,200 requests per 5 minutes. SSM publishes no figure; 5/s is cautious.
 */
import type { Budgets, TierSpec } from './model.js';

export const DEFAULT_TENANT = { instanceType: 't3.small', volumeGb: 30, platformPort: 8080 } as const;

export const DEFAULT_TIERS: readonly TierSpec[] = [
  { name: 'T3', instanceType: 't3.medium', volumeGb: 40, reserved: true },
  { name: 'T4', instanceType: 't3.large', volumeGb: 80, reserved: false },
];
/** Today every tier runs as T4. */
export const DEFAULT_TIER_CLAMP = { min: 'T4', max: 'T4' } as const;

export const DEFAULT_VOLUME_FLOORS: Readonly<Record<string, number>> = { hermes: 50 };

export const DEFAULT_ROLLOUT = { batches: [1, '25%', '100%'] as (number | string)[], maxFailureRatio: 0.1 };

export const DEFAULT_GUARDS = { maxDeletes: 3, maxTerminations: 5, maxReplacements: 5 } as const;

export const DEFAULT_HEALTH_CHECK = { timeoutSeconds: 120, intervalSeconds: 5 } as const;

/**
 * Cloudflare's published defaults: 1,000 cloudflared tunnels per account
 * (developers.cloudflare.com/cloudflare-one/account-limits) and 3,500 DNS records per Pro or
 * Business zone (dns/manage-dns-records; Free zones created since 2024-09-01 get 200, which
 * fleet.yaml must then say). No vCPU default: the Service Quotas API is the source.
 */
export const DEFAULT_QUOTAS = { tunnelsPerAccount: 1000, dnsRecordsPerZone: 3500 } as const;

export const DEFAULT_DELETION = { secretRecoveryWindowDays: 7, terminationDeadlineSeconds: 600 } as const;

/**
 * Sized from the published limits (notes/limits.md). Secrets Manager: 50/s is the documented write
 * quota, the tightest of the calls we make. SSM publishes no figure; 5/s with a burst of 10 stays
 * clear of the reported throttling.
 */
export const DEFAULT_BUDGETS: Budgets = {
  concurrency: 16,
  ec2: {
    describe: { perSecond: 20, burst: 100 },
    mutate: { perSecond: 5, burst: 50 },
    runInstances: { perSecond: 2, burst: 5 },
    terminateInstances: { perSecond: 5, burst: 100 },
    authorizeIngress: { perSecond: 5, burst: 50 },
  },
  secretsManager: { perSecond: 50, burst: 50 },
  ssm: { perSecond: 5, burst: 10 },
  cloudflare: { requests: 1200, windowSeconds: 300 },
};
