/**
 * `tenantform iam-policy`: print the least-privilege IAM policy document tenantform needs
 * (src/iam/policy.ts, generated from the action table src/iam/actions.ts), or with `--cloudflare`
 * the Cloudflare API token permissions. ARNs use --region/--account/--env/--instance-profile/
 * --instance-role, else AWS_REGION, MOLECULE_ENV and EC2_TENANT_IAM_PROFILE from the environment
 * when set, else `*`. `--bundle-name` (the template `import --adopt` takes) adds the one grant the
 * import needs outside `tenantform/<env>/…`: reading the control plane's bundles under their old
 * name; without it, a note on stderr says so. Reads nothing from the cloud; exit 0.
 */
import { cloudflarePermissions } from '../iam/cloudflare.js';
import { BUNDLE_TEMPLATE, iamPolicy, type PolicyScope } from '../iam/policy.js';
import { ExitCode, InputError } from '../errors.js';
import type { CommandModule } from './command.js';
import type { Io } from './io.js';

interface IamPolicyOptions {
  cloudflare?: boolean;
  region?: string;
  account?: string;
  env?: string;
  instanceProfile?: string;
  instanceRole?: string;
  canaryRole?: string;
  partition?: string;
  bundleName?: string;
}

export function runIamPolicy(io: Io, opts: IamPolicyOptions): number {
  if (opts.cloudflare) {
    const perms = cloudflarePermissions();
    const accountId = io.env.CLOUDFLARE_ACCOUNT_ID || '<CLOUDFLARE_ACCOUNT_ID>';
    const zoneId = io.env.CLOUDFLARE_ZONE_ID || '<CLOUDFLARE_ZONE_ID>';
    io.stdout(
      'Cloudflare API token permissions (create a custom token with exactly these):\n' +
        perms.map((p) => `  ${p.scope} · ${p.group} · ${p.level}   (${p.scope === 'Account' ? accountId : zoneId}; for ${p.operations.join(', ')})\n`).join('') +
        '\nAs a token policy (API permission group names):\n' +
        JSON.stringify(
          perms.map((p) => ({
            effect: 'allow',
            resources: { [p.scope === 'Account' ? `com.cloudflare.api.account.${accountId}` : `com.cloudflare.api.account.zone.${zoneId}`]: '*' },
            permission_groups: [{ name: p.apiName }],
          })),
          null,
          2,
        ) +
        '\n',
    );
    return ExitCode.ok;
  }
  const scope: PolicyScope = {};
  const set = <K extends keyof PolicyScope>(key: K, value: string | undefined) => {
    if (value) scope[key] = value;
  };
  set('partition', opts.partition);
  set('region', opts.region ?? io.env.AWS_REGION);
  set('account', opts.account);
  set('environment', opts.env ?? io.env.MOLECULE_ENV);
  set('instanceProfile', opts.instanceProfile ?? io.env.EC2_TENANT_IAM_PROFILE);
  set('instanceRole', opts.instanceRole);
  set('canaryRoleArn', opts.canaryRole ?? io.env.CANARY_ROLE_ARN);
  const bundleName = opts.bundleName?.trim();
  if (bundleName !== undefined) {
    if (!BUNDLE_TEMPLATE.test(bundleName) || !bundleName.includes('{orgId}')) {
      throw new InputError(
        'give the control plane\'s bundle name as `import --adopt` takes it: with an {orgId} placeholder, and only secret-name characters (no * or ?), e.g. --bundle-name "molecule/{env}/orgs/{orgId}/bootstrap"',
        { operation: 'read command line', resource: '--bundle-name' },
      );
    }
    scope.bundleName = bundleName;
  }
  io.stdout(JSON.stringify(iamPolicy(scope), null, 2) + '\n');
  if (bundleName === undefined) {
    io.stderr(
      "note: `import --adopt` also reads the control plane's bundles under their old name; add that grant with --bundle-name <template> (the template the import takes)\n",
    );
  }
  return ExitCode.ok;
}

export const iamPolicyCommand: CommandModule = {
  register(program, io, done) {
    program
      .command('iam-policy')
      .description('print the least-privilege IAM policy tenantform needs (--cloudflare: the API token permissions)')
      .option('--cloudflare', 'print the Cloudflare API token permission groups instead')
      .option('--region <region>', 'scope ARNs to this region (default: AWS_REGION, else *)')
      .option('--account <id>', 'scope ARNs to this AWS account id (default: *)')
      .option('--env <env>', 'scope secrets to this environment, tenantform/<env>/… (default: MOLECULE_ENV, else every environment)')
      .option('--instance-profile <name>', 'the tenant instance profile (default: EC2_TENANT_IAM_PROFILE, else *)')
      .option('--instance-role <name>', 'the role in that profile, the only one iam:PassRole is granted for (default: *)')
      .option('--canary-role <arn>', 'the canary account role, the only one sts:AssumeRole is granted for (default: CANARY_ROLE_ARN, else *)')
      .option('--partition <partition>', 'ARN partition', 'aws')
      .option('--bundle-name <template>', "for `import --adopt`: the control plane's bundle name template it reads (e.g. molecule/{env}/orgs/{orgId}/bootstrap)")
      .action((opts: IamPolicyOptions) => done(runIamPolicy(io, opts)));
  },
};
