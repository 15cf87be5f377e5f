/**
 * Client-side rate budgets, one limiter per (account, region, API), sized from the published
 * limits (notes/limits.md) and overridable in fleet.yaml. EC2 evaluates every action in its own
 * bucket whose size depends on the action's category, so each action gets its own TokenBucket
 * sized by category. Secrets Manager and SSM publish combined quotas, so all their actions share
 * one bucket per account and region. Cloudflare's limit is per token across everything.
 */
import { DEFAULT_BUDGETS } from '../desired/defaults.js';
import type { Budgets, RateBudget } from '../desired/model.js';
import { systemClock, type Clock } from './clock.js';
import { SlidingWindowLimiter } from './sliding-window.js';
import { TokenBucket, type RateLimiter } from './token-bucket.js';

export type AwsService = 'ec2' | 'secretsmanager' | 'ssm' | 'iam' | 'servicequotas';
export type Ec2Category = keyof Budgets['ec2'];

/** The published figures (notes/limits.md §1, §2, §4) are fleet.yaml's defaults; one definition serves both. */
export const PUBLISHED_BUDGETS: Budgets = DEFAULT_BUDGETS;

/** IAM reads: one GetInstanceProfile per apply; kept well under IAM's account-wide request rate. */
const IAM_READ_BUDGET: RateBudget = { burst: 5, perSecond: 2 };

/**
 * Service Quotas reads: one GetServiceQuota per run (the vCPU quota check). AWS publishes no
 * figure we could confirm, so this is kept small, like IAM's.
 */
const SERVICE_QUOTAS_READ_BUDGET: RateBudget = { burst: 5, perSecond: 2 };

/** EC2's "resource-intensive" request category (one bucket each, 50 burst / 5 per second). */
const RESOURCE_INTENSIVE = new Set([
  'AcceptVpcPeeringConnection',
  'AuthorizeSecurityGroupIngress',
  'CancelSpotInstanceRequests',
  'CreateKeyPair',
  'CreateVpcPeeringConnection',
  'DeleteVpcPeeringConnection',
  'RejectVpcPeeringConnection',
  'RevokeSecurityGroupIngress',
  'RequestSpotInstances',
]);

/**
 * Which budget an EC2 action draws from. StartInstances has the same own 5/2 bucket as
 * RunInstances, so it is sized by that budget. Actions with their own larger buckets that the
 * Budgets model does not name (CreateTags 100/10, …) use the mutate budget, which is smaller and
 * therefore safe.
 */
/** EC2's read-only actions, by the verb their names begin with. */
const READ_PREFIXES = ['Describe', 'List', 'Search', 'Get'] as const;

export function ec2Category(action: string): Ec2Category {
  if (action === 'RunInstances' || action === 'StartInstances') return 'runInstances';
  if (action === 'TerminateInstances') return 'terminateInstances';
  if (RESOURCE_INTENSIVE.has(action)) return 'authorizeIngress';
  if (READ_PREFIXES.some((p) => action.startsWith(p))) return 'describe';
  return 'mutate';
}

/**
 * The client keeps one token of the server's burst in reserve. Paced calls leave on timers, and a
 * busy event loop can fire a late one just before an on-time one: two requests closer together
 * than the refill interval. At full pace the server's bucket is empty, so without slack that pair
 * is throttled; one spare token absorbs a delay of up to one refill interval, at the cost of one
 * request of the initial burst.
 */
export function clientBurst(serverBurst: number): number {
  return serverBurst > 1 ? serverBurst - 1 : 1;
}

export class RateBudgets {
  private readonly limiters = new Map<string, RateLimiter>();

  constructor(
    readonly budgets: Budgets,
    private readonly clock: Clock = systemClock,
  ) {}

  /** The limiter for one AWS API action in one account (or profile) and region. */
  forAws(account: string, region: string, service: AwsService, action: string): RateLimiter {
    switch (service) {
      case 'ec2': {
        const category = ec2Category(action);
        return this.bucket(`aws|${account}|${region}|ec2|${action}`, this.budgets.ec2[category]);
      }
      case 'secretsmanager':
        return this.bucket(`aws|${account}|${region}|secretsmanager`, this.budgets.secretsManager);
      case 'ssm':
        return this.bucket(`aws|${account}|${region}|ssm`, this.budgets.ssm);
      case 'servicequotas':
        return this.bucket(`aws|${account}|${region}|servicequotas`, SERVICE_QUOTAS_READ_BUDGET);
      case 'iam':
        // IAM is global (no region) and only read once per apply by the wiring preflight.
        return this.bucket(`aws|${account}|iam`, IAM_READ_BUDGET);
    }
  }

  /** The limiter shared by every call made with one Cloudflare account's token. */
  forCloudflare(accountId: string): RateLimiter {
    const key = `cloudflare|${accountId}`;
    let limiter = this.limiters.get(key);
    if (!limiter) {
      const { requests, windowSeconds } = this.budgets.cloudflare;
      limiter = new SlidingWindowLimiter(requests, windowSeconds * 1000, this.clock);
      this.limiters.set(key, limiter);
    }
    return limiter;
  }

  private bucket(key: string, budget: RateBudget): RateLimiter {
    let limiter = this.limiters.get(key);
    if (!limiter) {
      limiter = new TokenBucket(clientBurst(budget.burst), budget.perSecond, this.clock);
      this.limiters.set(key, limiter);
    }
    return limiter;
  }
}
