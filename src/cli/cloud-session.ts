/**
 * The cloud clients a command works with, wired once for plan and apply alike: the SDK clients
 * (reading the standard endpoint variables from the run's environment), the rate gate every call
 * goes through, and the read-only views the observers get. The use cases get this as a factory,
 * so they never read the environment themselves.
 */
import type { CloudSessionFactory } from '../app/ports.js';
import { createAwsClients } from '../aws/clients.js';
import { createCloudflareContext } from '../cloudflare/client.js';
import { createLiveReaders } from '../live/readers.js';
import { countingGate, type CallObserver } from '../rate/counting.js';
import { createRateGate, RateBudgets, systemClock } from '../rate/index.js';

export type { CloudSession } from '../app/ports.js';

/** `observeCalls` hears of every call attempt and throttling answer (serve's metrics). */
export function cloudSessionFactory(env: NodeJS.ProcessEnv, observeCalls?: CallObserver): CloudSessionFactory {
  return (opts) => {
    const clock = opts.clock ?? systemClock;
    const paced = createRateGate({
      budgets: new RateBudgets(opts.budgets, clock),
      awsAccount: env.AWS_PROFILE ?? 'default',
      region: opts.region,
      cloudflareAccountId: opts.cloudflare.accountId,
      retry: { clock },
    });
    const gate = observeCalls ? countingGate(paced, observeCalls) : paced;
    // 429s go to the gate, which spends a budget token and counts each retry; the SDK's own retry would not.
    const cloudflare = createCloudflareContext({
      ...opts.cloudflare,
      baseURL: env.CLOUDFLARE_BASE_URL?.trim() || undefined,
      leaveThrottlingToCaller: true,
    });
    const aws = createAwsClients({ region: opts.region, env });
    const readers = createLiveReaders({ ec2: aws.ec2, secrets: aws.secrets, serviceQuotas: aws.serviceQuotas, cloudflare, gate });
    return { aws, cloudflare, gate, readers, close: () => aws.destroy() };
  };
}
