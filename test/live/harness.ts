/**
 * One AWS emulator (moto behind the proxy) and one Cloudflare double per test file, plus the SDK
 * clients and read-only readers pointed at them, and a seeding target for test/live/seed.ts.
 */
import Cloudflare from 'cloudflare';
import { startAwsEmulator, type AwsEmulator } from '../support/aws.js';
import { startCloudflareDouble, type CloudflareDouble } from '../support/cloudflare-double/index.js';
import { createLiveReaders, type LiveReaders } from '../../src/live/readers.js';
import type { SeedTarget } from './seed.js';

export const ZONE_NAME = 'example.test';
export const APP_DOMAIN = `apps.${ZONE_NAME}`;

export interface LiveHarness {
  aws: AwsEmulator;
  cf: CloudflareDouble;
  /**
   * Seeding for an environment in the same account and zone. Environments have their own app
   * domains (one zone can hold only one CNAME per host): APP_DOMAIN for dev, `<env>.APP_DOMAIN` else.
   */
  target(env: string): SeedTarget;
  /** Fresh readers (fresh call counters) over the same emulators. */
  readers(): LiveReaders;
  /** The product's environment variables for both emulators. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function startLiveHarness(): Promise<LiveHarness> {
  const [aws, cf] = await Promise.all([startAwsEmulator(), startCloudflareDouble({ zoneName: ZONE_NAME })]);
  const clients = aws.clients();
  const cloudflare = {
    client: new Cloudflare({ apiToken: cf.apiToken, baseURL: cf.baseURL, maxRetries: 0 }),
    accountId: cf.accountId,
    zoneId: cf.zoneId,
  };
  return {
    aws,
    cf,
    env: { ...aws.env, ...cf.env, APP_DOMAIN },
    target: (env) => ({
      env,
      ec2: clients.ec2,
      secrets: clients.secrets,
      cloudflare,
      vpcId: aws.seed.vpcId,
      subnetId: aws.seed.subnetId,
      appDomain: env === 'dev' ? APP_DOMAIN : `${env}.${APP_DOMAIN}`,
    }),
    readers: () => createLiveReaders({ ec2: clients.ec2, secrets: clients.secrets, cloudflare }),
    async close() {
      await Promise.all([aws.close(), cf.close()]);
    },
  };
}
