/**
 * Both emulators together, as `npm run emulators` and the demo use them: moto behind the AWS fault
 * proxy (seeded) and the Cloudflare double, with the one environment the product needs.
 */
import { startCloudflareDouble, type CloudflareDouble } from './cloudflare-double/index.js';
import { startAwsEmulator, type AwsEmulator, type FaithfulOptions } from './aws.js';

export interface Emulators {
  aws: AwsEmulator;
  cloudflare: CloudflareDouble;
  /** AWS_*, EC2_*, EIC_ENDPOINT_SG_ID, CLOUDFLARE_*, APP_DOMAIN. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export interface EmulatorsOptions {
  /** Port of the AWS endpoint (the proxy in front of moto); free when omitted. */
  awsPort?: number;
  cloudflarePort?: number;
  region?: string;
  accountId?: string;
  faithful?: Partial<FaithfulOptions>;
  /** The Cloudflare zone the double serves (default: the double's own). */
  zoneName?: string;
  /** APP_DOMAIN; must equal fleet.yaml's appDomain when set. Default: the zone name. */
  appDomain?: string;
}

export async function startEmulators(opts: EmulatorsOptions = {}): Promise<Emulators> {
  const cloudflare = await startCloudflareDouble({
    ...(opts.cloudflarePort !== undefined ? { port: opts.cloudflarePort } : {}),
    ...(opts.zoneName !== undefined ? { zoneName: opts.zoneName } : {}),
  });
  let aws: AwsEmulator;
  try {
    aws = await startAwsEmulator({
      ...(opts.region !== undefined ? { region: opts.region } : {}),
      ...(opts.accountId !== undefined ? { accountId: opts.accountId } : {}),
      ...(opts.awsPort !== undefined ? { port: opts.awsPort } : {}),
      ...(opts.faithful !== undefined ? { faithful: opts.faithful } : {}),
    });
  } catch (err) {
    await cloudflare.close();
    throw err;
  }
  return {
    aws,
    cloudflare,
    env: { ...aws.env, ...cloudflare.env, APP_DOMAIN: opts.appDomain ?? cloudflare.zoneName },
    async close() {
      await Promise.allSettled([aws.close(), cloudflare.close()]);
    },
  };
}
