/**
 * The rate limits bench:apply and bench:rollout run under: the published budgets scaled by K
 * (bursts kept), written into fleet.yaml for tenantform's own pacing, and enforced by the
 * emulators too (each listed EC2 action its own bucket; Secrets Manager and SSM one bucket per
 * service, as their quotas are shared; Cloudflare its window), so going over shows as throttling.
 */
import type { Budgets, RateBudget } from '../src/desired/model.js';
import { PUBLISHED_BUDGETS, ec2Category } from '../src/rate/budgets.js';
import type { AwsEmulator } from '../test/support/aws.js';
import type { CloudflareDouble } from '../test/support/cloudflare-double/index.js';

const scaled = (b: RateBudget, k: number): RateBudget => ({ perSecond: b.perSecond * k, burst: b.burst });

export function scaledBudgets(k: number): Budgets {
  const p = PUBLISHED_BUDGETS;
  return {
    concurrency: p.concurrency,
    ec2: {
      describe: scaled(p.ec2.describe, k),
      mutate: scaled(p.ec2.mutate, k),
      runInstances: scaled(p.ec2.runInstances, k),
      terminateInstances: scaled(p.ec2.terminateInstances, k),
      authorizeIngress: scaled(p.ec2.authorizeIngress, k),
    },
    secretsManager: scaled(p.secretsManager, k),
    ssm: scaled(p.ssm, k),
    cloudflare: { requests: Math.round(p.cloudflare.requests * k), windowSeconds: p.cloudflare.windowSeconds },
  };
}

export function budgetsYaml(b: Budgets): string {
  const rate = (r: RateBudget) => `{ perSecond: ${r.perSecond}, burst: ${r.burst} }`;
  return [
    'budgets:',
    `  concurrency: ${b.concurrency}`,
    '  ec2:',
    ...Object.entries(b.ec2).map(([k, r]) => `    ${k}: ${rate(r)}`),
    `  secretsManager: ${rate(b.secretsManager)}`,
    `  ssm: ${rate(b.ssm)}`,
    `  cloudflare: { requests: ${b.cloudflare.requests}, windowSeconds: ${b.cloudflare.windowSeconds} }`,
    '',
  ].join('\n');
}

export function enforceLimits(aws: AwsEmulator, cf: CloudflareDouble, b: Budgets, opts: { ec2Actions: readonly string[]; ssm: boolean }): void {
  for (const action of opts.ec2Actions) {
    const { perSecond, burst } = b.ec2[ec2Category(action)];
    aws.faults.inject({ kind: 'rateLimit', service: 'ec2', action, perSecond, burst });
  }
  aws.faults.inject({ kind: 'rateLimit', service: 'secretsmanager', perSecond: b.secretsManager.perSecond, burst: b.secretsManager.burst });
  if (opts.ssm) aws.faults.inject({ kind: 'rateLimit', service: 'ssm', perSecond: b.ssm.perSecond, burst: b.ssm.burst });
  cf.setRateLimit({ requests: b.cloudflare.requests, windowSeconds: b.cloudflare.windowSeconds });
}
