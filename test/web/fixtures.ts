/**
 * Snapshot data for the web view's unit tests: two tenants, one with a hostile slug and hostile
 * values in every free-text field a page shows (tag values, error messages, names), so each
 * page's escaping is tested on what an attacker who can tag a resource or name a file controls.
 */
import type { ChangeSet } from '../../src/changeset/model.js';
import type { DesiredState } from '../../src/desired/model.js';
import type { DriftResult } from '../../src/drift/model.js';
import type { Inventory, LiveInstance } from '../../src/live/model.js';
import type { Plan } from '../../src/plan/model.js';
import type { History, RunRecord } from '../../src/store/model.js';
import type { SweepReport } from '../../src/sweep/model.js';
import type { WebSnapshot } from '../../src/web/snapshot.js';

export const HOSTILE = `<script>alert("x")</script>&'`;
export const HOSTILE_ESCAPED = '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;';
export const ORG_A = '5f0c6a52-3b1e-4c8e-9a57-2d41e8a0b001';
export const ORG_H = '5f0c6a52-3b1e-4c8e-9a57-2d41e8a0b0ff';
export const WS_A = '7a1b2c3d-0000-4000-8000-00000000000a';
export const RUN_1 = 'run-1111';
export const RUN_H = `run-<b>"h"</b>`;

function instance(id: string, state: LiveInstance['state'], tags: Record<string, string> = {}): LiveInstance {
  return { instanceId: id, state, instanceType: 't3.small', imageId: 'ami-0abc', volumeGb: 30, securityGroupIds: [], launchTime: undefined, tags };
}

export const desired = {
  tenants: [
    {
      spec: { apiVersion: 'v1', slug: 'acme', orgId: ORG_A, canary: true, power: 'running', deletionProtection: true, instanceType: undefined },
      effective: { instanceType: 't3.small', volumeGb: 30, ami: 'ami-0abc', image: 'ghcr.io/example/tenant:1.4.0' },
      workspaces: [
        {
          spec: { apiVersion: 'v1', name: 'research', id: WS_A, runtime: 'hermes', tier: 'T4', power: 'stopped', image: undefined },
          effective: { tier: 'T4', instanceType: 't3.large', volumeGb: 50, ami: 'ami-0ws', image: undefined },
          source: { file: 'tenants/acme/workspaces/research.yaml', line: 1, col: 1 },
        },
      ],
      source: { file: 'tenants/acme/tenant.yaml', line: 1, col: 1 },
    },
    {
      spec: { apiVersion: 'v1', slug: HOSTILE, orgId: ORG_H, canary: false, power: 'running', deletionProtection: false, instanceType: undefined },
      effective: { instanceType: 't3.small', volumeGb: 30, ami: 'ami-0abc', image: HOSTILE },
      workspaces: [],
      source: { file: 'tenants/h/tenant.yaml', line: 1, col: 1 },
    },
  ],
} as unknown as DesiredState;

export const inventory: Inventory = {
  environment: 'dev',
  observedAt: '2026-12-01T14:00:00.000Z',
  scope: { kind: 'all' },
  tenants: {
    [ORG_A]: {
      orgId: ORG_A,
      slug: 'acme',
      instances: [instance('i-0tenant', 'running')],
      securityGroups: [],
      secrets: [],
      tunnels: [],
      dnsRecords: [],
      workspaces: { [WS_A]: { orgId: ORG_A, workspaceId: WS_A, instances: [instance('i-0ws', 'running', { Name: 'acme-research' })], securityGroups: [] } },
      deletionProtection: true,
    },
  },
  unattributed: [],
  calls: { ec2: 3, secretsmanager: 1, ssm: 0, cloudflare: 2 },
};

export const drift: DriftResult = {
  version: 1,
  environment: 'dev',
  observedAt: '2026-12-01T14:05:00.000Z',
  tenants: 2,
  findings: [
    {
      severity: 'drift',
      code: 'tag',
      resource: 'instance',
      resourceId: 'i-0ws',
      slug: 'acme',
      orgId: ORG_A,
      workspace: 'research',
      expected: 'acme',
      actual: HOSTILE,
      message: 'tag Name differs',
      repair: 'inPlace',
    },
    {
      severity: 'security',
      code: 'ruleOpenToWorld',
      resource: 'securityGroup',
      resourceId: 'sg-0open',
      slug: 'acme',
      orgId: ORG_A,
      actual: 'tcp/22 from cidr:0.0.0.0/0',
      message: 'ingress open to the world',
      repair: 'inPlace',
    },
  ],
  // Kept by rule: shown apart on /drift, counted nowhere (not findings).
  notes: [
    {
      severity: 'info',
      code: 'volumeLarger',
      resource: 'instance',
      resourceId: 'i-0tenant',
      slug: 'acme',
      orgId: ORG_A,
      expected: '30 GB',
      actual: '40 GB',
      message: 'root volume 40 GB, larger than the declared 30 GB; kept (an EBS volume cannot shrink)',
      repair: 'manual',
      remedy: 'declare 40 GB to match, or replace the instance (`tenantform plan --replace acme`) for a disk of the declared size',
    },
    {
      severity: 'info',
      code: 'volumeLarger',
      resource: 'instance',
      resourceId: 'i-0h',
      slug: HOSTILE,
      orgId: ORG_H,
      expected: '30 GB',
      actual: '60 GB',
      message: 'root volume 60 GB, larger than the declared 30 GB; kept (an EBS volume cannot shrink)',
      repair: 'manual',
      remedy: `declare 60 GB to match, or replace the instance (\`tenantform plan --replace ${HOSTILE}\`)`,
    },
  ],
  deep: { budget: undefined, checked: ['acme'], pending: [], budgetTooSmall: false },
  calls: { list: {} as DriftResult['calls']['list'], deep: {} as DriftResult['calls']['deep'] },
  warnings: [],
};

export const sweep: SweepReport = {
  formatVersion: 1,
  environment: 'dev',
  observedAt: '2026-12-01T14:06:00.000Z',
  minAgeMs: 1_800_000,
  mode: 'dryRun',
  orphans: [
    {
      kind: 'instance',
      id: 'i-0orphan',
      name: HOSTILE,
      orgId: ORG_H,
      slug: 'gone',
      workspaceId: undefined,
      reason: 'undeclaredTenant',
      since: '2026-11-30T00:00:00.000Z',
      ageSource: 'created',
      verdict: 'delete',
    },
  ],
  lost: [{ kind: 'secret', id: 'tenantform/dev/x', orgId: ORG_A, slug: 'acme', workspaceId: undefined, at: '2026-11-29T00:00:00.000Z', runId: RUN_1 }],
  refusals: [],
  summary: { orphans: 1, deletable: 1, deleted: 0, failed: 0, tooYoung: 0, protected: 0, reportOnly: 0, refused: 0, lost: 1, orphanedTenants: 1 },
  calls: {},
};

export const changeSet: ChangeSet = {
  formatVersion: 1,
  environment: 'dev',
  runId: RUN_1,
  startedAt: '2026-12-01T13:00:00.000Z',
  finishedAt: '2026-12-01T13:01:00.000Z',
  results: [
    {
      actionId: `redeploy:tenant:${ORG_A}`,
      kind: 'redeploy',
      target: { kind: 'tenant', orgId: ORG_A, slug: 'acme' },
      wave: 0,
      status: 'ok',
      resources: [{ kind: 'instance', id: 'i-0tenant', state: 'updated' }],
      durationMs: 1200,
    },
    {
      actionId: `redeploy:tenant:${ORG_H}`,
      kind: 'redeploy',
      target: { kind: 'tenant', orgId: ORG_H, slug: HOSTILE },
      wave: 1,
      status: 'failed',
      error: `SendCommand failed: ${HOSTILE}`,
      failedOperation: 'SendCommand',
      resources: [],
      durationMs: 800,
    },
  ],
  rollout: {
    waves: [
      { wave: 0, actions: 1, failed: 0, failureRatio: 0, halted: false },
      { wave: 1, actions: 1, failed: 1, failureRatio: 1, halted: true },
    ],
    maxFailureRatio: 0.1,
    halted: true,
  },
  summary: { ok: 1, failed: 1, skipped: 0 },
};

export const plan = {
  actions: [
    { id: `redeploy:tenant:${ORG_A}`, kind: 'redeploy', target: { kind: 'tenant', orgId: ORG_A, slug: 'acme' }, wave: 0 },
    { id: `redeploy:tenant:${ORG_H}`, kind: 'redeploy', target: { kind: 'tenant', orgId: ORG_H, slug: HOSTILE }, wave: 1 },
    { id: 'redeploy:tenant:third', kind: 'redeploy', target: { kind: 'tenant', orgId: 'third', slug: 'initech' }, wave: 2 },
  ],
} as unknown as Plan;

export function run(runId: string, over: Partial<RunRecord> = {}): RunRecord {
  return {
    runId,
    command: 'apply',
    environment: 'dev',
    gitCommit: 'abcdef0123456789',
    startedAt: '2026-12-01T13:00:00.000Z',
    finishedAt: '2026-12-01T13:01:00.000Z',
    status: 'succeeded',
    exitCode: 0,
    summary: { actions: { ok: 1, failed: 0, skipped: 0 } },
    host: 'ci-1',
    pid: 42,
    abandoned: undefined,
    ...over,
  };
}

export const history: History = {
  runs: [run(RUN_H, { command: 'drift', status: 'partial', exitCode: 2, summary: { note: HOSTILE } }), run(RUN_1)],
  resources: [
    {
      seq: 2,
      runId: RUN_1,
      environment: 'dev',
      kind: 'instance',
      resourceId: 'i-0ws',
      orgId: ORG_A,
      workspaceId: WS_A,
      slug: 'acme',
      state: 'created',
      gitCommit: undefined,
      at: '2026-12-01T13:00:40.000Z',
      details: {},
    },
    {
      seq: 1,
      runId: RUN_1,
      environment: 'dev',
      kind: 'instance',
      resourceId: 'i-0tenant',
      orgId: ORG_A,
      workspaceId: undefined,
      slug: 'acme',
      state: 'created',
      gitCommit: undefined,
      at: '2026-12-01T13:00:30.000Z',
      details: {},
    },
  ],
};

export const snapshot: WebSnapshot = {
  environment: 'dev',
  updatedAt: '2026-12-01T14:10:00.000Z',
  desired,
  inventory,
  lastPlan: plan,
  lastChangeSet: changeSet,
  lastDrift: drift,
  lastSweep: sweep,
  rollout: { phase: 'redeploying', wave: 1, done: 1, failed: 1, remaining: 1 },
};
