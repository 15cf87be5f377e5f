/**
 * The cloud clients a command works with, wired once for plan and apply alike: the SDK clients
 * (reading the standard endpoint variables from the run's environment), the rate gate every call
 * goes through, and the read-only views the observers get.
 */
import type { Budgets } from '../desired/model.js';
import { createAwsClients, type AwsClients } from '../aws/clients.js';
import { createCloudflareContext, type CloudflareContext } from '../cloudflare/client.js';
import { createLiveReaders, type LiveReaders } from '../live/readers.js';
import { createRateGate, RateBudgets, systemClock, type Clock, type RateGate } from '../rate/index.js';
import type { Io } from './io.js';

export interface CloudSession {
  aws: AwsClients;
  cloudflare: CloudflareContext;
  gate: RateGate;
  readers: LiveReaders;
  close(): void;
}

export function openCloudSession(
  io: Io,
  opts: { region: string; budgets: Budgets; cloudflare: { apiToken: string; accountId: string; zoneId: string }; clock?: Clock },
): CloudSession {
  const clock = opts.clock ?? systemClock;
  const gate = createRateGate({
    budgets: new RateBudgets(opts.budgets, clock),
    awsAccount: io.env.AWS_PROFILE ?? 'default',
    region: opts.region,
    cloudflareAccountId: opts.cloudflare.accountId,
    retry: { clock },
  });
  // 429s go to the gate, which spends a budget token and counts each retry; the SDK's own retry would not.
  const cloudflare = createCloudflareContext({
    ...opts.cloudflare,
    baseURL: io.env.CLOUDFLARE_BASE_URL?.trim() || undefined,
    leaveThrottlingToCaller: true,
  });
  const aws = createAwsClients({ region: opts.region, env: io.env });
  const readers = createLiveReaders({ ec2: aws.ec2, secrets: aws.secrets, cloudflare, gate });
  return { aws, cloudflare, gate, readers, close: () => aws.destroy() };
}
