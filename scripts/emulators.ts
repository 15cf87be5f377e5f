/**
 * `npm run emulators [-- --aws-port N --cloudflare-port N --app-domain D --zone Z --transition-ms N]`: starts moto
 * (behind the AWS fault proxy, seeded) and the Cloudflare double in the foreground and prints the
 * `export KEY=value` lines that point tenantform at them. Ctrl-C (SIGINT) or SIGTERM stops both.
 * The defaults fit the example fleet in this repository (appDomain tenants.example.dev).
 * Instances stay pending / stopping / shutting-down for `--transition-ms` (default 2000) of wall
 * time and then settle by themselves, polled or not, as on AWS.
 */
import { parseArgs } from 'node:util';
import { sharedMotoServer } from '../test/support/moto.js';
import { startEmulators } from '../test/support/emulators.js';

const printed = [
  'AWS_ENDPOINT_URL',
  'AWS_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED',
  'CLOUDFLARE_BASE_URL',
  'CLOUDFLARE_API_TOKEN',
  'CLOUDFLARE_ACCOUNT_ID',
  'CLOUDFLARE_ZONE_ID',
  'EC2_VPC_ID',
  'EC2_SUBNET_ID',
  'EC2_TENANT_IAM_PROFILE',
  'EIC_ENDPOINT_SG_ID',
  'EC2_AMI',
  'APP_DOMAIN',
];

const DEFAULT_TRANSITION_MS = 2000;

function port(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    process.stderr.write(`emulators: --${name} must be a port number (1-65535), got '${raw}'\n`);
    process.exit(1);
  }
  return value;
}

function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:@-]*$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'aws-port': { type: 'string' },
      'cloudflare-port': { type: 'string' },
      'app-domain': { type: 'string', default: 'tenants.example.dev' },
      zone: { type: 'string' },
      'transition-ms': { type: 'string', default: String(DEFAULT_TRANSITION_MS) },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(
      `usage: npm run emulators -- [--aws-port N] [--cloudflare-port N] [--app-domain D (fleet appDomain)] [--zone Z (default: D less its first label when it has three or more)] [--transition-ms N (default ${DEFAULT_TRANSITION_MS}; how long pending/stopping/shutting-down last)]\n`,
    );
    return;
  }
  const appDomain = values['app-domain'];
  // The app domain must lie inside the zone, as on Cloudflare (a name outside it gets the zone appended).
  const zoneName = values.zone ?? (appDomain.split('.').length > 2 ? appDomain.slice(appDomain.indexOf('.') + 1) : appDomain);
  const awsPort = port('aws-port', values['aws-port']);
  const cloudflarePort = port('cloudflare-port', values['cloudflare-port']);
  const transitionMs = Number(values['transition-ms']);
  if (!Number.isInteger(transitionMs) || transitionMs < 0) {
    process.stderr.write(`emulators: --transition-ms must be a whole number of milliseconds (0 or more), got '${values['transition-ms']}'\n`);
    process.exit(1);
  }
  process.stderr.write('emulators: starting moto and the Cloudflare double…\n');
  const emulators = await startEmulators({
    // moto's default account, so a client pointed at moto directly sees the same state.
    accountId: '123456789012',
    appDomain,
    zoneName,
    // 0 falls back to the proxy's poll counts (one DescribeInstances per transition).
    faithful: { transitionMs },
    ...(awsPort !== undefined ? { awsPort } : {}),
    ...(cloudflarePort !== undefined ? { cloudflarePort } : {}),
  });
  for (const key of printed) {
    const value = emulators.env[key];
    if (value !== undefined) process.stdout.write(`export ${key}=${shellQuote(value)}\n`);
  }
  process.stderr.write('emulators: running; Ctrl-C stops them\n');

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`emulators: ${signal}, stopping\n`);
    void emulators
      .close()
      .then(async () => (await sharedMotoServer()).stop())
      .finally(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`emulators: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
