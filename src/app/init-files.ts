/**
 * The text of the files `tenantform init` writes. fleet.yaml carries every field, the optional
 * ones commented out at their defaults with what they mean (schemas/fleet.schema.json says the
 * same), so an operator edits a file rather than reading a reference first.
 */

export interface FleetSettings {
  environment: 'dev' | 'staging' | 'prod';
  region: string;
  appDomain: string;
  tenantImage: string;
}

export function fleetYaml(s: FleetSettings): string {
  return `# The fleet: fleet-wide settings of this repository. Tenants live in tenants/<slug>/tenant.yaml,
# their workspaces in tenants/<slug>/workspaces/<name>.yaml. Wiring and secrets (AWS and Cloudflare
# credentials, VPC, subnet, SECRETS_ENCRYPTION_KEY, …) come from the environment, never from a file
# here: \`tenantform validate\` rejects anything that looks like a credential anywhere in the repository.
# Reference: schemas/fleet.schema.json (editors with the YAML language server complete and check it).
# yaml-language-server: $schema=./schemas/fleet.schema.json
apiVersion: tenantform.dev/v1
kind: Fleet

# The MOLECULE_ENV this fleet provisions into (dev, staging or prod): stamped on every resource
# and scoping every lookup, so environments never see each other. Also the name of the CI
# environment whose secrets and variables the workflows use.
environment: ${s.environment}
# The AWS region every tenant and workspace runs in.
region: ${s.region}
# The DNS zone tenants are served under: a tenant is reached at <slug>.<appDomain>.
appDomain: ${s.appDomain}
# The platform container image every tenant runs.
tenantImage: ${s.tenantImage}

# The image canary tenants (canary: true in tenant.yaml) run before the fleet follows. Omit when
# no canary rollout is in progress.
# canaryTenantImage: ghcr.io/example/platform:1.1.0-rc.1

# The AMI for tenants and for workspace runtimes without a pin. When omitted, EC2_AMI is used.
# defaultAmi: ami-0123456789abcdef0

# AMI pins by runtime, then by region.
# amiPins:
#   hermes:
#     ${s.region}: ami-0123456789abcdef0

# Container image pins by runtime: a pin switches that runtime's workspaces to the containerised
# user-data path (install docker if missing, pull, run).
# runtimeImages:
#   hermes: ghcr.io/example/hermes:2.1.0

# The tenant (platform) VM.
# tenant:
#   instanceType: t3.small # unless a tenant sets its own
#   volumeGb: 30
#   platformPort: 8080 # opened to the VPC CIDR, targeted by the tunnel ingress

# The workspace tier table, smallest first. A reserved tier is listed but never runs.
# tiers:
#   - { name: T3, instanceType: t3.medium, volumeGb: 40, reserved: true }
#   - { name: T4, instanceType: t3.large, volumeGb: 80 }

# Every workspace tier is clamped into [min, max] of the tier table.
# tierClamp: { min: T4, max: T4 }

# Minimum root volume in GB by runtime.
# volumeFloors:
#   hermes: 50

# How image changes roll out: canary tenants first, then batches (a count or a percentage of the
# tenants still to roll; the last batch repeats); halt when a batch's failed share exceeds the ratio.
# rollout:
#   batches: [1, "25%", "100%"]
#   maxFailureRatio: 0.1
#   # After each wave, every tenant of the wave must answer 2xx here before the next wave starts.
#   healthCheck: { url: "https://{slug}.{appDomain}/healthz", timeoutSeconds: 120, intervalSeconds: 5 }

# Safety limits checked before anything changes (plan/apply --allow-deletes N and
# --allow-terminations N lift them for one run).
# guards:
#   maxDeletes: 3 # tenant deletes per plan
#   maxTerminations: 5 # instance terminations outside a tenant cascade
#   maxReplacements: 5 # instances replaced per plan (--allow-replacements N)

# How deletes behave.
# deletion:
#   secretRecoveryWindowDays: 7 # Secrets Manager recovery window for a deleted tenant's bundle (7 to 30)
#   terminationDeadlineSeconds: 600 # how long a delete waits for instances to terminate

# Client-side rate budgets and concurrency (defaults follow AWS's and Cloudflare's published limits).
# budgets:
#   concurrency: 16 # tenants worked on at once
#   ec2:
#     describe: { perSecond: 20, burst: 100 }
#     mutate: { perSecond: 5, burst: 50 }
#     runInstances: { perSecond: 2, burst: 5 }
#     terminateInstances: { perSecond: 5, burst: 100 }
#     authorizeIngress: { perSecond: 5, burst: 50 }
#   secretsManager: { perSecond: 50, burst: 50 }
#   ssm: { perSecond: 5, burst: 10 }
#   cloudflare: { requests: 1200, windowSeconds: 300 }

# Quotas a plan is checked against before anything is created (refused over, warned within 10%).
# quotas:
#   tunnelsPerAccount: 1000 # Cloudflare tunnels per account
#   dnsRecordsPerZone: 3500 # DNS records per zone (200 on a Free zone)
#   vcpus: 64 # EC2 On-Demand Standard vCPUs, used only when Service Quotas cannot be read

# tenantform serve's jobs: node-cron expressions (an optional seconds field first), UTC; apply has none by default.
# schedules:
#   plan: "*/15 * * * *"
#   drift: "0 * * * *"
#   sweep: "30 2 * * *"
`;
}

export const GITIGNORE = `# tenantform's local state: the audit database and lease (.tenantform/state.db) and saved plans.
.tenantform/
*.plan.json
# Secrets never belong in this repository; a local .env for running tenantform by hand stays here.
.env
`;

export const CODEOWNERS = `# Who must review a change to the fleet. A merged pull request is applied to the cloud, so protect
# the default branch and require a review from these owners. Replace the placeholders.
*                   @your-org/platform-operators
/fleet.yaml         @your-org/platform-leads
/.github/workflows/ @your-org/platform-leads
/CODEOWNERS         @your-org/platform-leads
`;

export function readme(s: FleetSettings): string {
  return `# ${s.environment} fleet

This repository declares the tenants of the \`${s.environment}\` environment for
[tenantform](https://tenantform.dev): one platform VM per tenant, reached at
\`<slug>.${s.appDomain}\` through a Cloudflare Tunnel, and its workspaces (one agent VM each).
Merging a pull request provisions what it declares.

## Layout

- \`fleet.yaml\`: fleet-wide settings (images, AMI pins, tiers, rollout, guards); every field is
  described in the file and in \`schemas/fleet.schema.json\`.
- \`tenants/<slug>/tenant.yaml\`: one tenant (\`slug\`, \`orgId\`, \`canary\`, \`power\`,
  \`deletionProtection\`).
- \`tenants/<slug>/workspaces/<name>.yaml\`: one workspace (\`id\`, \`runtime\`, \`tier\`, \`power\`).
- \`.github/workflows/\`: \`plan.yml\` (pull requests: validation annotations and the plan as one
  comment), \`apply.yml\` (the default branch: plan, then apply that plan), \`sweep.yml\` (daily:
  drift and orphaned resources, kept in one issue). Gitea Actions runs them from the same folder.

## Adding a tenant

\`\`\`yaml
# tenants/acme/tenant.yaml
apiVersion: tenantform.dev/v1
kind: Tenant
slug: acme
orgId: 5f0c6a52-3b1e-4c8e-9a57-2d41e8a0b001
\`\`\`

Open a pull request; the plan comment shows what the merge will create. Removing a folder deletes
that tenant and everything it owns (up to \`guards.maxDeletes\` per run).

## Running by hand

\`\`\`sh
tenantform validate            # schemas, rules, and no credential anywhere in the repository
tenantform plan                # read-only: what apply would change (exit 2 when something would)
tenantform apply               # plan and apply, after a confirmation
\`\`\`

## Secrets and variables

Secrets never go in this repository. The workflows read them from the CI environment named
\`${s.environment}\` (apply) and \`${s.environment}-plan\` (plan, drift and sweep; read-only cloud
credentials suffice), under the provisioning contract's names:

- secrets: \`AWS_ACCESS_KEY_ID\`, \`AWS_SECRET_ACCESS_KEY\`, \`SECRETS_ENCRYPTION_KEY\`,
  \`PROVISION_SHARED_SECRET\`, \`CP_ADMIN_API_TOKEN\`, \`CLOUDFLARE_API_TOKEN\`, \`GHCR_PULL_TOKEN\`,
  \`TENANTFORM_DB\` (optional);
- variables: \`AWS_REGION\`, \`EC2_AMI\`, \`EC2_VPC_ID\`, \`EC2_SUBNET_ID\`, \`EC2_TENANT_IAM_PROFILE\`,
  \`EIC_ENDPOINT_SG_ID\`, \`CP_BASE_URL\`, \`CLOUDFLARE_ACCOUNT_ID\`, \`CLOUDFLARE_ZONE_ID\`,
  \`APP_DOMAIN\`, and as needed \`EC2_INSTANCE_TYPE\`, \`EC2_SECURITY_GROUP\`, \`EC2_KEY_NAME\`,
  \`TENANT_IMAGE\`, \`CANARY_TENANT_IMAGE\`, \`CANARY_ROLE_ARN\`, \`CANARY_REGION\`, \`CANARY_VPC_ID\`,
  \`CANARY_SUBNET_ID\`, \`TENANT_BACKUP_S3_PREFIX\`, \`TENANT_BACKUP_REPORT_URL\`;
- \`TENANTFORM_PACKAGE\` (variable): what \`npm install --global\` takes for tenantform, pinned.

\`tenantform validate --env\` checks a set of them without printing any value.
`;
}
