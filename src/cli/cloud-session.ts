/**
 * The cloud clients a command works with, wired once for plan and apply alike: the SDK clients
 * (reading the standard endpoint variables from the run's environment), the rate gate every call
 * goes through, and the read-only views the observers get. The use cases get this as a factory,
 * so they never read the environment themselves.
 */
import { roleAccountId, type AccountInfo } from '../accounts.js';
import type { AccountSession, CloudSessionFactory } from '../app/ports.js';
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
    // One set of buckets for the run, keyed by account and region: the canary account's are its own.
    const budgets = new RateBudgets(opts.budgets, clock);
    const gateFor = (info: AccountInfo) => {
      const paced = createRateGate({ budgets, awsAccount: info.id, region: info.region, cloudflareAccountId: opts.cloudflare.accountId, retry: { clock } });
      return observeCalls ? countingGate(paced, observeCalls) : paced;
    };
    const main: AccountInfo = { account: 'main', id: env.AWS_PROFILE ?? 'default', region: opts.region };
    const gate = gateFor(main);
    // 429s go to the gate, which spends a budget token and counts each retry; the SDK's own retry would not.
    const cloudflare = createCloudflareContext({
      ...opts.cloudflare,
      baseURL: env.CLOUDFLARE_BASE_URL?.trim() || undefined,
      leaveThrottlingToCaller: true,
    });
    const aws = createAwsClients({ region: opts.region, env });
    const readers = createLiveReaders({ ec2: aws.ec2, secrets: aws.secrets, serviceQuotas: aws.serviceQuotas, cloudflare, gate });
    let canary: AccountSession | undefined;
    if (opts.canary) {
      const info: AccountInfo = { account: 'canary', id: roleAccountId(opts.canary.roleArn), region: opts.canary.region, roleArn: opts.canary.roleArn };
      const canaryAws = createAwsClients({ region: info.region, env, assumeRole: { roleArn: opts.canary.roleArn, sessionName: opts.canary.sessionName } });
      const canaryGate = gateFor(info);
      canary = {
        info,
        aws: canaryAws,
        gate: canaryGate,
        readers: createLiveReaders({ ec2: canaryAws.ec2, secrets: canaryAws.secrets, serviceQuotas: canaryAws.serviceQuotas, cloudflare, gate: canaryGate }),
        ready: async () => {
          await canaryAws.ec2.config.credentials();
        },
      };
    }
    return {
      aws,
      cloudflare,
      gate,
      readers,
      main,
      ...(canary ? { canary } : {}),
      close: () => {
        aws.destroy();
        canary?.aws.destroy();
      },
    };
  };
}
