/**
 * The commands plan.yml, apply.yml and sweep.yml run, run in their order with their exit-code handling,
 * against the emulators: the steps come from the YAML (test/workflows/runner.ts), so the test
 * follows the workflow. The runner machine's own environment holds only PATH, HOME and the
 * emulator endpoints; everything else reaches tenantform through the workflow's `env:` mapping of
 * secrets and variables, which is what proves those names are the ones the product reads.
 * sweep.yml: drift and sweep (dry run) after an apply, with drift and an orphan made from outside,
 * and with an error; its issue script runs against an in-memory issues API.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AuthorizeSecurityGroupIngressCommand, DescribeInstancesCommand, DescribeSecurityGroupsCommand, RevokeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { SECRET_ENV_VARS } from '../../src/redact.js';
import { commitAll, writeTenant, type FleetTenant } from '../live/fleet.js';
import { APP_DOMAIN, startLiveHarness, type LiveHarness } from '../live/harness.js';
import { INSTALL_STEP_ID, readWorkflow, runWorkflow, type JobRun, type RunContext, type StepRun } from './runner.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const workflow = (name: string) => readWorkflow(join(repoRoot, 'workflows', name));
const BIN = join(repoRoot, 'bin', 'tenantform.js');

const ACME: FleetTenant = {
  slug: 'acme',
  orgId: '5f0c6a52-3b1e-4c8e-9a57-2d41e8a0c001',
  workspaces: [{ name: 'main', id: '0b8e4f7a-61c2-4d3e-8f90-a1b2c3d4f001', runtime: 'claude-code', tier: 'T4' }],
};
const GLOBEX: FleetTenant = { slug: 'globex', orgId: '5f0c6a52-3b1e-4c8e-9a57-2d41e8a0c002', workspaces: [] };

/** The provisioning contract's names, plus the SDK's credentials and the audit database. */
const CONTRACT = new Set(
  (
    'AWS_REGION EC2_AMI EC2_VPC_ID EC2_SUBNET_ID SECRETS_ENCRYPTION_KEY EC2_TENANT_IAM_PROFILE PROVISION_SHARED_SECRET CP_ADMIN_API_TOKEN ' +
    'CP_BASE_URL EIC_ENDPOINT_SG_ID CLOUDFLARE_API_TOKEN CLOUDFLARE_ACCOUNT_ID CLOUDFLARE_ZONE_ID APP_DOMAIN MOLECULE_ENV EC2_INSTANCE_TYPE ' +
    'EC2_SECURITY_GROUP EC2_KEY_NAME TENANT_IMAGE CANARY_TENANT_IMAGE CANARY_ROLE_ARN CANARY_REGION CANARY_VPC_ID CANARY_SUBNET_ID ' +
    'TENANT_BACKUP_S3_PREFIX TENANT_BACKUP_REPORT_URL GHCR_PULL_TOKEN AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY TENANTFORM_DB NO_COLOR'
  ).split(' '),
);
/** Where the emulators are: the runner machine's configuration, not the repository's. */
const MACHINE = ['AWS_ENDPOINT_URL', 'CLOUDFLARE_BASE_URL', 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'];

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface World {
  h: LiveHarness;
  dir: string;
  ctx(github: Record<string, unknown>, drop?: string[]): RunContext;
  secretValues: string[];
}

async function startWorld(): Promise<World> {
  const h = await startLiveHarness();
  const dir = mkdtempSync(join(tmpdir(), 'tenantform-wf-'));
  const state = mkdtempSync(join(tmpdir(), 'tenantform-wf-state-'));
  dirs.push(dir, state);
  // The fleet repository as an operator starts it: tenantform init, then tenants.
  const io = memoryIo({ cwd: dir });
  expect(await main(['init', '--app-domain', APP_DOMAIN, '--region', h.env.AWS_REGION!], io)).toBe(0);
  const secretOf = (label: string) => `${label}-${randomBytes(16).toString('hex')}`;
  const secrets: Record<string, string> = {
    AWS_ACCESS_KEY_ID: h.env.AWS_ACCESS_KEY_ID!,
    AWS_SECRET_ACCESS_KEY: h.env.AWS_SECRET_ACCESS_KEY!,
    SECRETS_ENCRYPTION_KEY: secretOf('enc'),
    PROVISION_SHARED_SECRET: secretOf('shared'),
    CP_ADMIN_API_TOKEN: secretOf('cpadmin'),
    CLOUDFLARE_API_TOKEN: h.env.CLOUDFLARE_API_TOKEN!,
    GHCR_PULL_TOKEN: secretOf('ghcr'),
    TENANTFORM_DB: join(state, 'audit.db'),
  };
  const vars: Record<string, string> = { CP_BASE_URL: 'https://cp.example.dev', TENANTFORM_PACKAGE: 'unused-by-the-test' };
  for (const [k, v] of Object.entries(h.env)) if (!MACHINE.includes(k) && !(k in secrets)) vars[k] = v;
  const machineEnv: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root' };
  for (const k of MACHINE) if (h.env[k] !== undefined) machineEnv[k] = h.env[k];
  return {
    h,
    dir,
    secretValues: SECRET_ENV_VARS.map((k) => secrets[k]).filter((v): v is string => v !== undefined && v.length > 8),
    ctx: (github, drop = []) => ({
      github,
      secrets: Object.fromEntries(Object.entries(secrets).filter(([k]) => !drop.includes(k))),
      vars: Object.fromEntries(Object.entries(vars).filter(([k]) => !drop.includes(k))),
      machineEnv,
      workspace: dir,
      tenantformBin: BIN,
    }),
  };
}

function step(job: JobRun, id: string): StepRun {
  const s = job.steps.find((x) => x.id === id);
  if (!s) throw new Error(`job ${job.id} has no step ${id}`);
  return s;
}

function everything(jobs: Record<string, JobRun>): string {
  return Object.values(jobs)
    .flatMap((j) => [j.summary, ...j.steps.flatMap((s) => [s.stdout, s.stderr])])
    .join('\n');
}

function expectNoSecret(jobs: Record<string, JobRun>, w: World): void {
  const text = everything(jobs);
  for (const v of w.secretValues) expect(text).not.toContain(v);
}

/** Runs a github-script step's script against an in-memory issues API, as actions/github-script would. */
async function runScript(s: StepRun, github: unknown, context: unknown): Promise<void> {
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<void>;
  const saved = { ...process.env };
  Object.assign(process.env, s.env);
  try {
    await new AsyncFunction('require', 'github', 'context', s.with.script!)(createRequire(import.meta.url), github, context);
  } finally {
    for (const k of Object.keys(s.env)) if (saved[k] === undefined) delete process.env[k];
  }
}

interface Comment {
  id: number;
  body: string;
  user: { type: string };
}
function commentsApi() {
  const comments: Comment[] = [{ id: 1, body: 'LGTM', user: { type: 'User' } }];
  const issues = {
    listComments: async () => ({ data: comments }),
    createComment: async ({ body }: { body: string }) => void comments.push({ id: comments.length + 1, body, user: { type: 'Bot' } }),
    updateComment: async ({ comment_id, body }: { comment_id: number; body: string }) => void (comments.find((c) => c.id === comment_id)!.body = body),
  };
  return { comments, github: { paginate: async (fn: (a: unknown) => Promise<{ data: unknown[] }>, args: unknown) => (await fn(args)).data, rest: { issues } } };
}

describe('the workflows are shaped for the runner and the contract', () => {
  for (const name of ['plan.yml', 'apply.yml', 'sweep.yml']) {
    it(`${name}: installs tenantform in one step, passes only contract names, and puts no expression in a script`, () => {
      const wf = workflow(name);
      const jobs = Object.values(wf.jobs);
      expect(jobs.flatMap((j) => j.steps).filter((s) => s.id === INSTALL_STEP_ID)).toHaveLength(1);
      for (const job of jobs) {
        for (const key of Object.keys(job.env ?? {})) expect(CONTRACT.has(key), `${name}: env ${key}`).toBe(true);
        for (const s of job.steps) if (s.run) expect(s.run, `${name}: ${s.name ?? s.id}`).not.toContain('${{');
      }
      const text = readFileSync(join(repoRoot, 'workflows', name), 'utf8');
      // Secrets come from secrets.*, never from vars.* (which are shown in logs and the UI).
      for (const k of SECRET_ENV_VARS) if (text.includes(`${k}:`)) expect(text).toContain(`${k}: \${{ secrets.${k} }}`);
    });
  }

  it('sweep.yml runs drift, then sweep as a dry run, each with --markdown, 2 counted as found', () => {
    const report = workflow('sweep.yml').jobs.report!;
    const drift = report.steps.find((s) => s.id === 'drift')!.run!;
    const sweep = report.steps.find((s) => s.id === 'sweep')!.run!;
    expect(drift).toContain('tenantform drift --markdown');
    expect(sweep).toContain('tenantform sweep --markdown');
    expect(sweep).not.toMatch(/--(?:delete|apply|auto-approve)/);
    for (const script of [drift, sweep]) expect(script).toMatch(/2\) echo "found=true"/);
  });
});

describe('plan.yml on a pull request', () => {
  let w: World;
  let base: string;
  beforeAll(async () => {
    w = await startWorld();
    writeTenant(w.dir, ACME);
    base = await commitAll(w.dir, 'acme');
    writeTenant(w.dir, GLOBEX);
    await commitAll(w.dir, 'globex');
  });
  afterAll(async () => {
    await w?.h.close();
  });
  const pr = () => ({ event: { pull_request: { number: 7, base: { sha: base } } } });

  it('validates, plans only the changed tenants (exit 2 passes), keeps the plan and posts one sticky comment', async () => {
    const jobs = await runWorkflow(workflow('plan.yml'), w.ctx(pr()));
    expect(jobs.fleet!.outputs).toEqual({ environment: 'dev' });
    const job = jobs.plan!;
    expect(job.environment).toBe('dev-plan');
    expect(step(job, 'validate').code).toBe(0);
    expect(step(job, 'validate').stdout).toContain('The fleet is valid');
    const plan = step(job, 'plan');
    expect(plan.stderr).not.toMatch(/error/i);
    expect(plan.code).toBe(0);
    expect(plan.outputs['exit-code']).toBe('2');
    expect(job.conclusion).toBe('success');
    expect(job.summary).toContain('globex');
    expect(job.summary).not.toContain('acme');
    const upload = job.steps.find((s) => s.uses?.startsWith('actions/upload-artifact@'))!;
    expect(upload.ran).toBe(true);
    expect(JSON.parse(readFileSync(upload.with.path!, 'utf8'))).toMatchObject({ actions: [expect.objectContaining({ kind: 'create' })] });
    const comment = job.steps.find((s) => s.uses?.startsWith('actions/github-script@'))!;
    expect(comment.ran).toBe(true);

    // The comment step twice (two pushes): one bot comment, updated, beside the human one.
    const api = commentsApi();
    const context = { repo: { owner: 'o', repo: 'fleet' }, payload: { pull_request: { number: 7 } } };
    await runScript(comment, api.github, context);
    writeFileSync(comment.env.PLAN_MARKDOWN!, 'second push\n');
    await runScript(comment, api.github, context);
    expect(api.comments.map((c) => c.body)).toEqual(['LGTM', '<!-- tenantform-plan -->\nsecond push\n']);
    expectNoSecret(jobs, w);
  });

  it('fails on exit 1 (a wiring error), still posts why, and uploads nothing', async () => {
    const jobs = await runWorkflow(workflow('plan.yml'), w.ctx(pr(), ['CLOUDFLARE_ZONE_ID']));
    const job = jobs.plan!;
    const plan = step(job, 'plan');
    expect(plan.code).toBe(1);
    expect(plan.outputs['exit-code']).toBe('1');
    expect(job.conclusion).toBe('failure');
    expect(job.steps.find((s) => s.uses?.startsWith('actions/upload-artifact@'))!.ran).toBe(false);
    const comment = job.steps.find((s) => s.uses?.startsWith('actions/github-script@'))!;
    expect(comment.ran).toBe(true);
    expect(readFileSync(comment.env.PLAN_MARKDOWN!, 'utf8')).toMatch(/tenantform plan failed \(exit 1[\s\S]*CLOUDFLARE_ZONE_ID/);
    expectNoSecret(jobs, w);
  });
});

describe('apply.yml on a push to the default branch', () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld();
    writeTenant(w.dir, ACME);
    writeTenant(w.dir, GLOBEX);
    await commitAll(w.dir, 'two tenants');
  });
  afterAll(async () => {
    await w?.h.close();
  });
  const push = { ref_name: 'main', event: { repository: { default_branch: 'main' } } };

  async function liveOrgs(): Promise<string[]> {
    const ec2 = w.h.aws.clients().ec2;
    const res = await ec2.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: 'tag:ManagedBy', Values: ['tenantform'] },
          { Name: 'instance-state-name', Values: ['pending', 'running'] },
        ],
      }),
    );
    const orgs = (res.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.Tags?.find((t) => t.Key === 'OrgID')?.Value ?? '');
    return [...new Set(orgs)].sort();
  }

  it('one group per environment, never cancelled; exit 4 fails the job, the next push converges, then nothing to do', { timeout: 240_000 }, async () => {
    const fault = w.h.aws.faults.inject({
      kind: 'serverError',
      service: 'ec2',
      action: 'CreateSecurityGroup',
      when: (req) => (req.form.get('GroupName') ?? '').includes(GLOBEX.orgId),
    });
    const first = await runWorkflow(workflow('apply.yml'), w.ctx(push));
    const job = first.apply!;
    expect(job.environment).toBe('dev');
    expect(job.concurrency).toEqual({ group: 'tenantform-apply-dev', cancelInProgress: false });
    expect(step(job, 'plan').code).toBe(0);
    expect(step(job, 'plan').outputs).toEqual({ changes: 'true' });
    const apply = step(job, 'apply');
    expect(apply.code).toBe(4);
    expect(apply.stdout).toContain('::error::tenantform apply: some resources failed');
    expect(job.conclusion).toBe('failure');
    expect(job.summary).toContain('### Change set (exit 4)');
    expect(await liveOrgs()).toEqual([ACME.orgId]);
    expectNoSecret(first, w);

    fault.remove();
    const second = await runWorkflow(workflow('apply.yml'), w.ctx(push));
    expect(step(second.apply!, 'apply').code).toBe(0);
    expect(second.apply!.conclusion).toBe('success');
    expect(second.apply!.summary).toContain('### Change set (exit 0)');
    expect(await liveOrgs()).toEqual([ACME.orgId, GLOBEX.orgId].sort());

    const third = await runWorkflow(workflow('apply.yml'), w.ctx(push));
    expect(step(third.apply!, 'plan').outputs).toEqual({ changes: 'false' });
    expect(step(third.apply!, 'apply').ran).toBe(false);
    expect(third.apply!.conclusion).toBe('success');
    expectNoSecret(third, w);
    expect(existsSync(join(w.dir, '.tenantform'))).toBe(false);
  });

  it('does not apply a push to another branch', async () => {
    const jobs = await runWorkflow(workflow('apply.yml'), w.ctx({ ref_name: 'feature', event: { repository: { default_branch: 'main' } } }));
    expect(jobs.apply!.conclusion).toBe('skipped');
  });
});

interface Issue {
  number: number;
  title: string;
  body: string;
  state: 'open' | 'closed';
  comments: string[];
}
/** The issues API the sweep workflow's script calls, in memory (GitHub's shapes, only the fields it reads). */
function issuesApi(initial: Issue[] = []) {
  const list: Issue[] = initial;
  const issues = {
    listForRepo: async ({ state }: { state: string }) => ({ data: list.filter((i) => i.state === state) }),
    create: async ({ title, body }: { title: string; body: string }) => void list.push({ number: list.length + 1, title, body, state: 'open', comments: [] }),
    update: async ({ issue_number, body, state }: { issue_number: number; body?: string; state?: 'open' | 'closed' }) => {
      const issue = list.find((i) => i.number === issue_number)!;
      if (body !== undefined) issue.body = body;
      if (state !== undefined) issue.state = state;
    },
    createComment: async ({ issue_number, body }: { issue_number: number; body: string }) => void list.find((i) => i.number === issue_number)!.comments.push(body),
  };
  return { issues: list, github: { paginate: async (fn: (a: unknown) => Promise<{ data: unknown[] }>, args: unknown) => (await fn(args)).data, rest: { issues } } };
}

describe('sweep.yml on a schedule', () => {
  let w: World;
  const schedule = { event: {} };
  const context = { repo: { owner: 'o', repo: 'fleet' }, serverUrl: 'https://github.example', runId: 42 };
  beforeAll(async () => {
    w = await startWorld();
    writeTenant(w.dir, ACME);
    writeTenant(w.dir, GLOBEX);
    await commitAll(w.dir, 'two tenants');
    const applied = await runWorkflow(workflow('apply.yml'), w.ctx({ ref_name: 'main', event: { repository: { default_branch: 'main' } } }));
    expect(step(applied.apply!, 'apply').code).toBe(0);
  }, 240_000);
  afterAll(async () => {
    await w?.h.close();
  });

  const ec2 = () => w.h.aws.clients().ec2;
  const issueStep = (job: JobRun) => job.steps.find((s) => s.uses?.startsWith('actions/github-script@'))!;
  const tenantGroup = async (orgId: string) => {
    const res = await ec2().send(
      new DescribeSecurityGroupsCommand({
        Filters: [
          { Name: 'tag:OrgID', Values: [orgId] },
          { Name: 'tag:Role', Values: ['tenant'] },
        ],
      }),
    );
    expect(res.SecurityGroups).toHaveLength(1);
    return res.SecurityGroups![0]!;
  };
  const liveGroups = async () =>
    ((await ec2().send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'tag:ManagedBy', Values: ['tenantform'] }] }))).SecurityGroups ?? [])
      .map((g) => g.GroupId!)
      .sort();
  /** Instances tenantform made that are not being terminated, with their state. */
  const liveInstances = async () =>
    (
      await ec2().send(
        new DescribeInstancesCommand({
          Filters: [
            { Name: 'tag:ManagedBy', Values: ['tenantform'] },
            { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
          ],
        }),
      )
    )
      .Reservations!.flatMap((r) => r.Instances ?? [])
      .map((i) => `${i.InstanceId} ${i.State?.Name}`)
      .sort();

  it('after an apply: drift and sweep exit 0, nothing found, no issue opened and an open one closed', { timeout: 120_000 }, async () => {
    const jobs = await runWorkflow(workflow('sweep.yml'), w.ctx(schedule));
    expect(jobs.fleet!.outputs).toEqual({ environment: 'dev' });
    const job = jobs.report!;
    expect(job.environment).toBe('dev-plan');
    expect(step(job, 'drift').code).toBe(0);
    expect(step(job, 'drift').outputs).toEqual({ found: 'false' });
    expect(step(job, 'sweep').code).toBe(0);
    expect(step(job, 'sweep').outputs).toEqual({ found: 'false' });
    expect(job.conclusion).toBe('success');
    const script = issueStep(job);
    expect(script.ran).toBe(true);
    expect(script.env.FOUND).toBe('false');

    const none = issuesApi();
    await runScript(script, none.github, context);
    expect(none.issues).toEqual([]);
    const stale = issuesApi([{ number: 1, title: 'tenantform: drift or orphaned resources', body: '<!-- tenantform-drift -->\nold', state: 'open', comments: [] }]);
    await runScript(script, stale.github, context);
    expect(stale.issues).toMatchObject([{ number: 1, state: 'closed', comments: [expect.stringContaining('No drift and no orphans')] }]);
    expectNoSecret(jobs, w);
  });

  it(
    'a drifted security group (tcp/22 opened from outside): drift exits 2, counted as found, the job succeeds, one issue opened then updated',
    { timeout: 120_000 },
    async () => {
      const group = await tenantGroup(ACME.orgId);
      await ec2().send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: group.GroupId,
          IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
        }),
      );
      const first = await runWorkflow(workflow('sweep.yml'), w.ctx(schedule));
      const job = first.report!;
      const drift = step(job, 'drift');
      expect(drift.code).toBe(0); // the script maps tenantform's exit 2 to found=true
      expect(drift.outputs).toEqual({ found: 'true' });
      expect(step(job, 'sweep').outputs).toEqual({ found: 'false' });
      expect(job.conclusion).toBe('success');
      expect(job.summary).toContain(group.GroupId!);
      const script = issueStep(job);
      expect(script.env.FOUND).toBe('true');

      const api = issuesApi();
      await runScript(script, api.github, context);
      expect(api.issues).toHaveLength(1);
      expect(api.issues[0]!.body).toContain('<!-- tenantform-drift -->');
      expect(api.issues[0]!.body).toContain(group.GroupId!);
      const second = await runWorkflow(workflow('sweep.yml'), w.ctx(schedule));
      const again = issueStep(second.report!);
      writeFileSync(join(again.env.REPORT_DIR!, 'drift.md'), 'second run\n');
      await runScript(again, api.github, context);
      expect(api.issues).toHaveLength(1);
      expect(api.issues[0]).toMatchObject({ number: 1, state: 'open' });
      expect(api.issues[0]!.body).toContain('second run');
      expectNoSecret(first, w);

      await ec2().send(
        new RevokeSecurityGroupIngressCommand({
          GroupId: group.GroupId,
          IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
        }),
      );
    },
  );

  it('an orphan (a tenant removed from the repository after apply): sweep exits 2 as a dry run and deletes nothing', { timeout: 120_000 }, async () => {
    const before = await liveGroups();
    const instancesBefore = await liveInstances();
    expect(instancesBefore.length).toBeGreaterThan(0);
    const globexGroup = (await tenantGroup(GLOBEX.orgId)).GroupId!;
    rmSync(join(w.dir, 'tenants', GLOBEX.slug), { recursive: true });
    await commitAll(w.dir, 'globex leaves');
    const jobs = await runWorkflow(workflow('sweep.yml'), w.ctx(schedule));
    const job = jobs.report!;
    const sweep = step(job, 'sweep');
    expect(sweep.code).toBe(0);
    expect(sweep.outputs).toEqual({ found: 'true' });
    expect(job.conclusion).toBe('success');
    expect(job.summary).toContain(globexGroup);
    expect(issueStep(job).env.FOUND).toBe('true');
    expect(await liveGroups()).toEqual(before);
    expect(await liveInstances()).toEqual(instancesBefore);
    expect(before).toContain(globexGroup);
    expectNoSecret(jobs, w);
  });

  it('fails on exit 1 (a wiring error): the job fails and the issue is left alone', async () => {
    const jobs = await runWorkflow(workflow('sweep.yml'), w.ctx(schedule, ['CLOUDFLARE_ZONE_ID']));
    const job = jobs.report!;
    const drift = step(job, 'drift');
    expect(drift.code).toBe(1);
    expect(drift.stdout).toContain('::error::tenantform drift exited 1');
    expect(job.conclusion).toBe('failure');
    expect(step(job, 'sweep').ran).toBe(false);
    expect(issueStep(job).ran).toBe(false);
    expectNoSecret(jobs, w);
  });
});
