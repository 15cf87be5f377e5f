import { describe, expect, it } from 'vitest';
import { Tag, backupConfigTag, tunnelTarget } from '../../src/contract.js';
import type { DesiredState } from '../../src/desired/model.js';
import type { Inventory, LiveTenant } from '../../src/live/model.js';
import { planChanges, planExitCode, unknownReplaceTargets, type PlanOptions } from '../../src/plan/diff.js';
import { evaluateDestructionGuards, withBlocks } from '../../src/plan/guards.js';
import type { Action, GuardKind, Plan } from '../../src/plan/model.js';
import { NOW, clone, desiredState, fleetSpec, inventoryFor, inventoryOf, liveTenantFor, tenant, workspace } from './fixtures.js';

/** `resource:op` or `resource:op@id`, so expectations read like the plan. */
function steps(a: Action | undefined): string[] {
  return (a?.steps ?? []).map((s) => `${s.resource}:${s.op}${s.id !== undefined ? `@${s.id}` : ''}${s.workspaceId !== undefined ? `/${s.workspaceId}` : ''}`);
}
function ids(plan: Plan): string[] {
  return plan.actions.map((a) => a.id);
}
function find(plan: Plan, id: string): Action {
  const a = plan.actions.find((x) => x.id === id);
  if (!a) throw new Error(`no action ${id} in [${ids(plan).join(', ')}]`);
  return a;
}
function guards(plan: Plan): [GuardKind, boolean][] {
  return plan.guards.map((g) => [g.guard, g.blocking]);
}
function plan(desired: DesiredState | undefined, inventory: Inventory, opts: Partial<PlanOptions> = {}): Plan {
  return planChanges(desired, inventory, { now: NOW, ...opts });
}
/** Equal inventory for `desired`, then `edit` applied to one org's live tenant. */
function liveWith(desired: DesiredState, orgId: string, edit: (t: LiveTenant) => void): Inventory {
  const inv = inventoryFor(desired);
  edit(inv.tenants[orgId]!);
  return inv;
}

const acme = tenant('acme', { workspaces: [workspace('alpha'), workspace('beta')] });
const base = desiredState([acme, tenant('bolt')]);

interface Scenario {
  name: string;
  desired: DesiredState | undefined;
  inventory: Inventory;
  opts?: Partial<PlanOptions>;
  actions: { id: string; steps?: string[]; blockedBy?: GuardKind[] }[];
  guards?: [GuardKind, boolean][];
  exit: 0 | 2 | 3;
}

const T = 'org-acme';
const TI = `i-t-${T}`;
const SCENARIOS: Scenario[] = [
  { name: 'the desired state equals the inventory: nothing to do', desired: base, inventory: inventoryFor(base), actions: [], exit: 0 },
  {
    name: 'a new tenant with a workspace: tenant create sequence, then the workspace create',
    desired: base,
    inventory: inventoryOf([liveTenantFor(base.tenants[1]!, base.fleet)]),
    actions: [
      {
        id: 'create:tenant:org-acme',
        steps: ['staleArtifacts:create', 'tunnel:create', 'dnsRecord:create', 'ingress:create', 'secret:create', 'securityGroup:create', 'instance:create'],
      },
      { id: 'create:workspace:org-acme:ws-alpha', steps: ['securityGroup:create', 'instance:create'] },
      { id: 'create:workspace:org-acme:ws-beta', steps: ['securityGroup:create', 'instance:create'] },
    ],
    exit: 2,
  },
  {
    name: 'a new tenant declared stopped is stopped after its create',
    desired: desiredState([tenant('acme', { power: 'stopped' })]),
    inventory: inventoryOf([]),
    actions: [
      {
        id: 'create:tenant:org-acme',
        steps: [
          'staleArtifacts:create',
          'tunnel:create',
          'dnsRecord:create',
          'ingress:create',
          'secret:create',
          'securityGroup:create',
          'instance:create',
          'instance:stop',
        ],
      },
    ],
    exit: 2,
  },
  (() => {
    const d = desiredState([tenant('acme')]);
    const live = liveTenantFor(d.tenants[0]!, d.fleet);
    const arn = live.secrets[0]!.arn;
    const only: LiveTenant = {
      ...live,
      instances: [],
      securityGroups: [],
      tunnels: [],
      dnsRecords: [],
      secrets: [{ ...live.secrets[0]!, deletedDate: '2025-05-30T00:00:00Z' }],
    };
    return {
      name: 're-declared tenant whose secret is scheduled for deletion: create restores the secret',
      desired: d,
      inventory: inventoryOf([only]),
      actions: [
        {
          id: 'create:tenant:org-acme',
          steps: ['staleArtifacts:create', 'tunnel:create', 'dnsRecord:create', 'ingress:create', `secret:restore@${arn}`, 'securityGroup:create', 'instance:create'],
        },
      ],
      exit: 2,
    } satisfies Scenario;
  })(),
  {
    name: 'repair: a tunnel without its DNS record gets the record and ingress',
    desired: base,
    inventory: liveWith(base, T, (t) => (t.dnsRecords = [])),
    actions: [{ id: 'repair:tenant:org-acme', steps: ['dnsRecord:create', `ingress:create@tun-${T}`] }],
    exit: 2,
  },
  {
    name: 'repair: only the instance is missing',
    desired: base,
    inventory: liveWith(base, T, (t) => (t.instances = [])),
    actions: [{ id: 'repair:tenant:org-acme', steps: ['instance:create'] }],
    exit: 2,
  },
  {
    name: 'repair: a terminated or shutting-down instance does not count as existing',
    desired: base,
    inventory: liveWith(base, T, (t) => {
      t.instances[0]!.state = 'shutting-down';
      t.instances.push({ ...t.instances[0]!, instanceId: 'i-old', state: 'terminated' });
    }),
    actions: [{ id: 'repair:tenant:org-acme', steps: ['instance:create'] }],
    exit: 2,
  },
  {
    name: 'repair: a secret scheduled for deletion is restored, not regenerated',
    desired: base,
    inventory: liveWith(base, T, (t) => (t.secrets[0]!.deletedDate = '2025-05-30T00:00:00Z')),
    actions: [
      { id: 'repair:tenant:org-acme', steps: [`secret:restore@arn:aws:secretsmanager:us-east-2:123456789012:secret:tenantform/dev/tenants/${T}/bootstrap-AbCdEf`] },
    ],
    exit: 2,
  },
  {
    name: 'repair: the tunnel is gone, so the record is re-pointed, ingress rewritten, the bundle updated, the instance re-tagged (TunnelID) and the platform told',
    desired: base,
    inventory: liveWith(base, T, (t) => (t.tunnels = [])),
    actions: [
      {
        id: 'repair:tenant:org-acme',
        steps: [
          'tunnel:create',
          `dnsRecord:modify@dns-${T}`,
          'ingress:create',
          `secret:modify@arn:aws:secretsmanager:us-east-2:123456789012:secret:tenantform/dev/tenants/${T}/bootstrap-AbCdEf`,
          `tags:modify@${TI}`,
          `command:run@${TI}`,
        ],
      },
    ],
    exit: 2,
  },
  {
    name: 'repair: a DNS record that is not proxied is re-pointed with its ingress',
    desired: base,
    inventory: liveWith(base, T, (t) => (t.dnsRecords[0]!.proxied = false)),
    actions: [{ id: 'repair:tenant:org-acme', steps: [`dnsRecord:modify@dns-${T}`, `ingress:create@tun-${T}`] }],
    exit: 2,
  },
  {
    name: 'repair: the security group is missing',
    desired: base,
    inventory: liveWith(base, T, (t) => (t.securityGroups = [])),
    actions: [{ id: 'repair:tenant:org-acme', steps: ['securityGroup:create'] }],
    exit: 2,
  },
  {
    name: 'repair: a workspace whose security group exists but instance does not',
    desired: base,
    inventory: liveWith(base, T, (t) => (t.workspaces['ws-alpha']!.instances = [])),
    actions: [{ id: 'repair:workspace:org-acme:ws-alpha', steps: ['instance:create'] }],
    exit: 2,
  },
  {
    name: 'resize a running tenant: stop, modify, start',
    desired: base,
    inventory: liveWith(base, T, (t) => (t.instances[0]!.instanceType = 't3.micro')),
    actions: [{ id: 'resize:tenant:org-acme', steps: [`instance:stop@${TI}`, `instance:modify@${TI}`, `instance:start@${TI}`] }],
    exit: 2,
  },
  {
    name: 'instance types compare case-insensitively',
    desired: base,
    inventory: liveWith(base, T, (t) => (t.instances[0]!.instanceType = 'T3.Small')),
    actions: [],
    exit: 0,
  },
  {
    name: 'resize of a tenant declared stopped ends stopped, without a separate stop',
    desired: desiredState([tenant('acme', { power: 'stopped', instanceType: 't3.medium' })]),
    inventory: inventoryOf([{ ...liveTenantFor(tenant('acme', { power: 'running' }), fleetSpec()) }]),
    actions: [{ id: 'resize:tenant:org-acme', steps: [`instance:stop@${TI}`, `instance:modify@${TI}`] }],
    exit: 2,
  },
  {
    name: 'resize a workspace',
    desired: base,
    inventory: liveWith(base, T, (t) => (t.workspaces['ws-beta']!.instances[0]!.instanceType = 't3.medium')),
    actions: [{ id: 'resize:workspace:org-acme:ws-beta', steps: ['instance:stop@i-w-ws-beta', 'instance:modify@i-w-ws-beta', 'instance:start@i-w-ws-beta'] }],
    exit: 2,
  },
  {
    name: 'start a stopped tenant declared running',
    desired: base,
    inventory: liveWith(base, T, (t) => (t.instances[0]!.state = 'stopped')),
    actions: [{ id: 'start:tenant:org-acme', steps: [`instance:start@${TI}`] }],
    exit: 2,
  },
  {
    name: 'stop a running workspace declared stopped',
    desired: desiredState([tenant('acme', { workspaces: [workspace('alpha', { power: 'stopped' })] })]),
    inventory: inventoryFor(desiredState([tenant('acme', { workspaces: [workspace('alpha')] })])),
    actions: [{ id: 'stop:workspace:org-acme:ws-alpha', steps: ['instance:stop@i-w-ws-alpha'] }],
    exit: 2,
  },
  {
    name: 'pending counts as running and stopping as stopped',
    desired: desiredState([tenant('acme', { workspaces: [workspace('alpha', { power: 'stopped' })] })]),
    inventory: liveWith(desiredState([tenant('acme', { workspaces: [workspace('alpha', { power: 'stopped' })] })]), T, (t) => {
      t.instances[0]!.state = 'pending';
      t.workspaces['ws-alpha']!.instances[0]!.state = 'stopping';
    }),
    actions: [],
    exit: 0,
  },
  {
    name: 'redeploy a tenant whose Image tag differs',
    desired: base,
    inventory: liveWith(base, T, (t) => (t.instances[0]!.tags[Tag.image] = 'ghcr.io/acme/platform:0.9.0')),
    actions: [{ id: 'redeploy:tenant:org-acme', steps: [`command:run@${TI}`] }],
    exit: 2,
  },
  {
    name: 'redeploy a tenant with no Image tag (the running image is unknown)',
    desired: base,
    inventory: liveWith(base, T, (t) => delete t.instances[0]!.tags[Tag.image]),
    actions: [{ id: 'redeploy:tenant:org-acme', steps: [`command:run@${TI}`] }],
    exit: 2,
  },
  (() => {
    const d = desiredState([tenant('acme', { power: 'stopped' })]);
    return {
      name: 'redeploy a stopped tenant: start, run, stop',
      desired: d,
      inventory: liveWith(d, T, (t) => (t.instances[0]!.tags[Tag.image] = 'old')),
      actions: [{ id: 'redeploy:tenant:org-acme', steps: [`instance:start@${TI}`, `command:run@${TI}`, `instance:stop@${TI}`] }],
      exit: 2,
    } satisfies Scenario;
  })(),
  (() => {
    const d = desiredState([tenant('acme', { workspaces: [workspace('alpha', { image: 'ghcr.io/acme/claude:2' })] })]);
    return {
      name: 'redeploy a workspace whose runtime image pin moved',
      desired: d,
      inventory: liveWith(d, T, (t) => (t.workspaces['ws-alpha']!.instances[0]!.tags[Tag.image] = 'ghcr.io/acme/claude:1')),
      actions: [{ id: 'redeploy:workspace:org-acme:ws-alpha', steps: ['command:run@i-w-ws-alpha'] }],
      exit: 2,
    } satisfies Scenario;
  })(),
  {
    name: 'a workspace leaving the containerised path is replaced',
    desired: base,
    inventory: liveWith(base, T, (t) => (t.workspaces['ws-alpha']!.instances[0]!.tags[Tag.image] = 'ghcr.io/acme/claude:1')),
    actions: [
      { id: 'delete:workspace:org-acme:ws-alpha', steps: ['instance:delete@i-w-ws-alpha'] },
      { id: 'create:workspace:org-acme:ws-alpha', steps: ['instance:create'] },
    ],
    exit: 2,
  },
  {
    name: 'a workspace whose runtime changed is replaced',
    desired: base,
    inventory: liveWith(base, T, (t) => (t.workspaces['ws-beta']!.instances[0]!.tags[Tag.runtime] = 'hermes')),
    actions: [
      { id: 'delete:workspace:org-acme:ws-beta', steps: ['instance:delete@i-w-ws-beta'] },
      { id: 'create:workspace:org-acme:ws-beta', steps: ['instance:create'] },
    ],
    exit: 2,
  },
  {
    name: 'update: DeletionProtection turned on tags the instance, security group and secret',
    desired: desiredState([tenant('acme', { deletionProtection: true })]),
    inventory: inventoryFor(desiredState([tenant('acme')])),
    actions: [
      {
        id: 'update:tenant:org-acme',
        steps: [
          `tags:modify@${TI}`,
          `tags:modify@sg-t-${T}`,
          `tags:modify@arn:aws:secretsmanager:us-east-2:123456789012:secret:tenantform/dev/tenants/${T}/bootstrap-AbCdEf`,
        ],
      },
    ],
    exit: 2,
  },
  {
    name: 'update: a slug change renames the tunnel, the hostname and the OrgSlug tags',
    desired: desiredState([tenant('acme2', { orgId: T })]),
    inventory: inventoryFor(desiredState([tenant('acme')])),
    actions: [
      {
        id: 'update:tenant:org-acme',
        steps: [
          `tunnel:modify@tun-${T}`,
          `dnsRecord:modify@dns-${T}`,
          `ingress:modify@tun-${T}`,
          `tags:modify@${TI}`,
          `tags:modify@sg-t-${T}`,
          `tags:modify@arn:aws:secretsmanager:us-east-2:123456789012:secret:tenantform/dev/tenants/${T}/bootstrap-AbCdEf`,
        ],
      },
    ],
    exit: 2,
  },
  {
    // Issue 8 item 2: an AMI difference alone never replaces an instance (it holds the tenant's data).
    name: 'a different AMI alone replaces nothing: a notice, no action',
    desired: base,
    inventory: liveWith(base, T, (t) => {
      t.instances[0]!.imageId = 'ami-0old';
      t.workspaces['ws-alpha']!.instances[0]!.imageId = 'ami-0old';
    }),
    actions: [],
    exit: 0,
  },
  {
    name: 'replacement on request: --replace <slug> is a delete then a create of the tenant instance',
    desired: base,
    inventory: liveWith(base, T, (t) => (t.instances[0]!.imageId = 'ami-0old')),
    opts: { replace: ['acme'] },
    actions: [
      { id: 'delete:tenant:org-acme', steps: [`instance:delete@${TI}`] },
      { id: 'create:tenant:org-acme', steps: ['instance:create'] },
    ],
    exit: 2,
  },
  {
    name: 'replacement on request: --replace <slug>/<workspace> replaces that workspace only, same AMI or not',
    desired: base,
    inventory: inventoryFor(base),
    opts: { replace: ['acme/beta'] },
    actions: [
      { id: 'delete:workspace:org-acme:ws-beta', steps: ['instance:delete@i-w-ws-beta'] },
      { id: 'create:workspace:org-acme:ws-beta', steps: ['instance:create'] },
    ],
    exit: 2,
  },
  {
    name: 'a root volume smaller than declared grows in place (never a replacement): volume modify, then the filesystem over SSM',
    desired: base,
    inventory: liveWith(base, T, (t) => {
      t.instances[0]!.volumeGb = 20;
      t.instances[0]!.rootVolumeId = 'vol-acme';
    }),
    actions: [{ id: 'resize:tenant:org-acme', steps: ['volume:modify@vol-acme', `command:run@${TI}`] }],
    exit: 2,
  },
  {
    name: 'a volume growth with a new instance type: one resize, the filesystem grown once it runs again',
    desired: base,
    inventory: liveWith(base, T, (t) => {
      t.instances[0]!.volumeGb = 20;
      t.instances[0]!.rootVolumeId = 'vol-acme';
      t.instances[0]!.instanceType = 't3.micro';
    }),
    actions: [
      { id: 'resize:tenant:org-acme', steps: ['volume:modify@vol-acme', `instance:stop@${TI}`, `instance:modify@${TI}`, `instance:start@${TI}`, `command:run@${TI}`] },
    ],
    exit: 2,
  },
  {
    name: 'a volume growth of a stopped instance declared stopped: started for the filesystem command, stopped again',
    desired: desiredState([tenant('acme', { power: 'stopped' })]),
    inventory: liveWith(desiredState([tenant('acme', { power: 'stopped' })]), T, (t) => {
      t.instances[0]!.volumeGb = 20;
      t.instances[0]!.rootVolumeId = 'vol-acme';
    }),
    actions: [{ id: 'resize:tenant:org-acme', steps: ['volume:modify@vol-acme', `instance:start@${TI}`, `command:run@${TI}`, `instance:stop@${TI}`] }],
    exit: 2,
  },
  {
    name: 'a volume growth of a stopped instance declared running: the resize starts it (no separate start)',
    desired: base,
    inventory: liveWith(base, T, (t) => {
      t.instances[0]!.volumeGb = 20;
      t.instances[0]!.state = 'stopped';
    }),
    actions: [{ id: 'resize:tenant:org-acme', steps: [`volume:modify@${TI}`, `instance:start@${TI}`, `command:run@${TI}`] }],
    exit: 2,
  },
  {
    name: 'a workspace moved to a tier with a larger volume keeps its instance',
    desired: base,
    inventory: liveWith(base, T, (t) => {
      t.workspaces['ws-beta']!.instances[0]!.volumeGb = 40;
      t.workspaces['ws-beta']!.instances[0]!.rootVolumeId = 'vol-beta';
    }),
    actions: [{ id: 'resize:workspace:org-acme:ws-beta', steps: ['volume:modify@vol-beta', 'command:run@i-w-ws-beta'] }],
    exit: 2,
  },
  {
    name: 'a larger root volume is kept (EBS cannot shrink) and the plan says so; an unobserved one is not compared',
    desired: base,
    inventory: liveWith(base, T, (t) => {
      t.instances[0]!.volumeGb = 100;
      t.workspaces['ws-alpha']!.instances[0]!.volumeGb = undefined;
    }),
    actions: [],
    guards: [['volumeShrink', false]],
    exit: 0,
  },
  {
    name: 'a shrink refused does not hold back the rest of the change: the instance type still changes',
    desired: base,
    inventory: liveWith(base, T, (t) => {
      t.instances[0]!.volumeGb = 100;
      t.instances[0]!.instanceType = 't3.micro';
    }),
    actions: [{ id: 'resize:tenant:org-acme', steps: [`instance:stop@${TI}`, `instance:modify@${TI}`, `instance:start@${TI}`] }],
    guards: [['volumeShrink', false]],
    exit: 2,
  },
  {
    name: 'replacement of a protected tenant instance is blocked',
    desired: desiredState([tenant('acme', { deletionProtection: true })]),
    inventory: liveWith(desiredState([tenant('acme', { deletionProtection: true })]), T, (t) => (t.instances[0]!.imageId = 'ami-0old')),
    opts: { replace: ['acme'] },
    actions: [
      { id: 'delete:tenant:org-acme', blockedBy: ['deletionProtection'] },
      { id: 'create:tenant:org-acme', blockedBy: ['deletionProtection'] },
    ],
    guards: [['deletionProtection', true]],
    exit: 3,
  },
  {
    name: 'an undeclared tenant is deleted with its whole cascade, in order',
    desired: desiredState([tenant('bolt')]),
    inventory: inventoryFor(base),
    actions: [
      {
        id: 'delete:tenant:org-acme',
        steps: [
          'instance:delete@i-w-ws-alpha/ws-alpha',
          'instance:delete@i-w-ws-beta/ws-beta',
          `instance:delete@${TI}`,
          'securityGroup:delete@sg-w-ws-alpha/ws-alpha',
          'securityGroup:delete@sg-w-ws-beta/ws-beta',
          `securityGroup:delete@sg-t-${T}`,
          `secret:delete@arn:aws:secretsmanager:us-east-2:123456789012:secret:tenantform/dev/tenants/${T}/bootstrap-AbCdEf`,
          `dnsRecord:delete@dns-${T}`,
          `tunnel:delete@tun-${T}`,
        ],
      },
    ],
    exit: 2,
  },
  (() => {
    const gone = liveTenantFor(tenant('acme'), fleetSpec());
    const i = gone.instances[0]!;
    return {
      name: 'a cascade includes shutting-down instances (apply waits for them) but not terminated ones',
      desired: desiredState([tenant('bolt')]),
      inventory: inventoryOf([
        {
          ...gone,
          instances: [
            { ...i, state: 'shutting-down' },
            { ...i, instanceId: 'i-dead', state: 'terminated' },
          ],
          secrets: [],
          tunnels: [],
          dnsRecords: [],
        },
        liveTenantFor(tenant('bolt'), fleetSpec()),
      ]),
      actions: [{ id: 'delete:tenant:org-acme', steps: [`instance:delete@${TI}`, `securityGroup:delete@sg-t-${T}`] }],
      exit: 2,
    } satisfies Scenario;
  })(),
  {
    name: 'an undeclared tenant with only terminated instances and a scheduled secret needs nothing',
    desired: desiredState([tenant('bolt')]),
    inventory: inventoryOf([
      (() => {
        const t = liveTenantFor(tenant('acme'), fleetSpec());
        return {
          ...t,
          instances: [{ ...t.instances[0]!, state: 'terminated' as const }],
          securityGroups: [],
          secrets: [{ ...t.secrets[0]!, deletedDate: '2025-05-30T00:00:00Z' }],
          tunnels: [],
          dnsRecords: [],
          workspaces: {},
        };
      })(),
      liveTenantFor(tenant('bolt'), fleetSpec()),
    ]),
    actions: [],
    exit: 0,
  },
  {
    name: 'deletion protection outlives the file: an undeclared protected tenant is not deleted',
    desired: desiredState([tenant('bolt')]),
    inventory: inventoryFor(desiredState([tenant('acme', { deletionProtection: true }), tenant('bolt')])),
    actions: [{ id: 'delete:tenant:org-acme', blockedBy: ['deletionProtection'] }],
    guards: [['deletionProtection', true]],
    exit: 3,
  },
  {
    name: 'an undeclared workspace of a declared tenant is deleted',
    desired: desiredState([tenant('acme', { workspaces: [workspace('alpha')] }), tenant('bolt')]),
    inventory: inventoryFor(base),
    actions: [{ id: 'delete:workspace:org-acme:ws-beta', steps: ['instance:delete@i-w-ws-beta', 'securityGroup:delete@sg-w-ws-beta'] }],
    exit: 2,
  },
  {
    name: 'duplicate instances: a non-blocking finding, no delete, the oldest is the one compared',
    desired: base,
    inventory: liveWith(base, T, (t) => {
      t.instances.push({ ...t.instances[0]!, instanceId: 'i-newer', launchTime: '2025-02-01T00:00:00.000Z', instanceType: 't3.micro' });
    }),
    actions: [],
    guards: [['duplicateLive', false]],
    exit: 0,
  },
  {
    name: 'unattributed resources never produce actions',
    desired: base,
    inventory: { ...inventoryFor(base), unattributed: [{ service: 'ec2', kind: 'instance', id: 'i-stray', name: undefined, reason: 'no OrgID tag' }] },
    actions: [],
    exit: 0,
  },
  {
    name: 'no desired state: blocking emptyDesired, nothing planned',
    desired: undefined,
    inventory: inventoryFor(base),
    actions: [],
    guards: [['emptyDesired', true]],
    exit: 3,
  },
  {
    name: 'zero declared tenants while tenants are live: blocking emptyDesired, no deletes',
    desired: desiredState([]),
    inventory: inventoryFor(base),
    actions: [],
    guards: [['emptyDesired', true]],
    exit: 3,
  },
  { name: 'zero declared tenants and nothing live: nothing to do', desired: desiredState([]), inventory: inventoryOf([]), actions: [], exit: 0 },
  {
    name: 'the inventory of another environment: blocking, nothing planned',
    desired: base,
    inventory: { ...inventoryOf([]), environment: 'prod' },
    actions: [],
    guards: [['scope', true]],
    exit: 3,
  },
  // --- identity: a workspace moved between tenants, a slug live under another org, a group still in use
  (() => {
    const moved = workspace('alpha');
    const before = desiredState([tenant('acme', { workspaces: [moved] }), tenant('bolt')]);
    const after = desiredState([tenant('acme'), tenant('bolt', { workspaces: [moved] })]);
    return {
      name: 'a workspace moved to another tenant: deleted under the old org, created under the new (its group is named by org, so nothing collides)',
      desired: after,
      inventory: inventoryFor(before),
      actions: [
        { id: 'delete:workspace:org-acme:ws-alpha', steps: ['instance:delete@i-w-ws-alpha', 'securityGroup:delete@sg-w-ws-alpha'] },
        { id: 'create:workspace:org-bolt:ws-alpha', steps: ['securityGroup:create', 'instance:create'] },
      ],
      exit: 2,
    } satisfies Scenario;
  })(),
  (() => {
    const old = tenant('acme', { orgId: 'org-old', workspaces: [workspace('alpha')] });
    const edited = tenant('acme', { orgId: 'org-new', workspaces: [workspace('alpha')] });
    return {
      name: 'an orgId edited in place: the slug is live under the old org with its VM, so the delete + create is refused (identity)',
      desired: desiredState([edited]),
      inventory: inventoryFor(desiredState([old])),
      actions: [
        { id: 'create:tenant:org-new', blockedBy: ['identity'] },
        { id: 'create:workspace:org-new:ws-alpha', blockedBy: ['identity'] },
        { id: 'delete:tenant:org-old', blockedBy: ['identity'] },
      ],
      guards: [['identity', true]],
      exit: 3,
    } satisfies Scenario;
  })(),
  (() => {
    const purged = liveTenantFor(tenant('acme', { orgId: 'org-old' }), fleetSpec());
    const leftovers: LiveTenant = { ...purged, instances: [], securityGroups: [], secrets: [], workspaces: {} };
    return {
      name: "a purged org's leftover tunnel and record under the same slug hold nothing: cleaned by the create as before, no identity finding",
      desired: desiredState([tenant('acme', { orgId: 'org-new' })]),
      inventory: inventoryOf([leftovers]),
      actions: [
        {
          id: 'create:tenant:org-new',
          steps: ['staleArtifacts:create', 'tunnel:create', 'dnsRecord:create', 'ingress:create', 'secret:create', 'securityGroup:create', 'instance:create'],
        },
        { id: 'delete:tenant:org-old', steps: ['dnsRecord:delete@dns-org-old', 'tunnel:delete@tun-org-old'] },
      ],
      exit: 2,
    } satisfies Scenario;
  })(),
  (() => {
    const live = desiredState([tenant('acme', { orgId: 'org-a' })]);
    return {
      name: 'a slug given to a new org in the same change that renames its old org: refused until the rename is applied',
      desired: desiredState([tenant('acme', { orgId: 'org-b' }), tenant('apex', { orgId: 'org-a' })]),
      inventory: inventoryFor(live),
      actions: [
        { id: 'create:tenant:org-b', blockedBy: ['identity'] },
        { id: 'update:tenant:org-a', blockedBy: ['identity'] },
      ],
      guards: [['identity', true]],
      exit: 3,
    } satisfies Scenario;
  })(),
  (() => {
    const d = desiredState([tenant('acme', { workspaces: [workspace('alpha')] }), tenant('bolt')]);
    const inv = inventoryFor(d);
    // bolt's tenant instance also sits in acme's alpha group (put there by hand).
    inv.tenants['org-bolt']!.instances[0]!.securityGroupIds.push('sg-w-ws-alpha');
    return {
      name: 'a workspace delete whose group an instance the plan keeps still uses is refused at plan time (groupInUse)',
      desired: desiredState([tenant('acme'), d.tenants[1]!]),
      inventory: inv,
      actions: [{ id: 'delete:workspace:org-acme:ws-alpha', blockedBy: ['groupInUse'] }],
      guards: [['groupInUse', true]],
      exit: 3,
    } satisfies Scenario;
  })(),
  (() => {
    const d = desiredState([tenant('acme', { workspaces: [workspace('alpha')] }), tenant('bolt', { workspaces: [workspace('beta')] })]);
    const inv = inventoryFor(d);
    inv.tenants['org-bolt']!.workspaces['ws-beta']!.instances[0]!.securityGroupIds.push('sg-w-ws-alpha');
    return {
      name: "a workspace instance in another workspace's group is moved into its own, so that group's delete is no finding",
      desired: desiredState([tenant('acme'), d.tenants[1]!]),
      inventory: inv,
      actions: [
        { id: 'delete:workspace:org-acme:ws-alpha', steps: ['instance:delete@i-w-ws-alpha', 'securityGroup:delete@sg-w-ws-alpha'] },
        { id: 'repair:workspace:org-bolt:ws-beta', steps: ['instance:modify@i-w-ws-beta'] },
      ],
      exit: 2,
    } satisfies Scenario;
  })(),
  (() => {
    // What a move under the old group names left: the new owner's instance in the old owner's group
    // (adopted by name), the old owner's instance gone, its group undeletable.
    const moved = workspace('alpha');
    const before = desiredState([tenant('acme', { workspaces: [moved] }), tenant('bolt', { workspaces: [moved] })]);
    const inv = inventoryFor(before);
    inv.tenants['org-acme']!.workspaces['ws-alpha']!.instances = [];
    const boltAlpha = inv.tenants['org-bolt']!.workspaces['ws-alpha']!;
    boltAlpha.securityGroups = [];
    boltAlpha.instances[0]!.securityGroupIds = ['sg-w-ws-alpha'];
    boltAlpha.instances[0]!.instanceId = 'i-w-moved';
    return {
      name: 'a fleet left half-moved by the old group names converges: the new owner gets its group and its instance moves in, the old group goes',
      desired: desiredState([tenant('acme'), tenant('bolt', { workspaces: [moved] })]),
      inventory: inv,
      actions: [
        { id: 'delete:workspace:org-acme:ws-alpha', steps: ['securityGroup:delete@sg-w-ws-alpha'] },
        { id: 'repair:workspace:org-bolt:ws-alpha', steps: ['securityGroup:create', 'instance:modify@i-w-moved'] },
      ],
      exit: 2,
    } satisfies Scenario;
  })(),
  (() => {
    const d = desiredState([tenant('acme', { workspaces: [workspace('alpha')] }), tenant('bolt', { workspaces: [workspace('beta')] })]);
    const inv = inventoryFor(d);
    const beta = inv.tenants['org-bolt']!.workspaces['ws-beta']!.instances[0]!;
    beta.securityGroupIds.push('sg-w-ws-alpha');
    beta.state = 'shutting-down';
    return {
      name: 'a group used by an instance that is shutting down, or that the same plan deletes, is no finding',
      desired: desiredState([tenant('acme')]),
      inventory: inv,
      actions: [
        { id: 'delete:workspace:org-acme:ws-alpha', steps: ['instance:delete@i-w-ws-alpha', 'securityGroup:delete@sg-w-ws-alpha'] },
        { id: 'delete:tenant:org-bolt' },
      ],
      exit: 2,
    } satisfies Scenario;
  })(),
];

describe('planChanges: named scenarios', () => {
  for (const s of SCENARIOS) {
    it(s.name, () => {
      const p = plan(s.desired, s.inventory, s.opts);
      expect(ids(p)).toEqual(s.actions.map((a) => a.id));
      for (const want of s.actions) {
        const got = find(p, want.id);
        if (want.steps) expect(steps(got)).toEqual(want.steps);
        expect(got.blockedBy).toEqual(want.blockedBy);
        expect(got.reason.length).toBeGreaterThan(0);
      }
      expect(guards(p)).toEqual(s.guards ?? []);
      expect(planExitCode(p)).toBe(s.exit);
    });
  }
});

describe('planChanges: identity', () => {
  const moved = workspace('alpha');
  const before = desiredState([tenant('acme', { workspaces: [moved] }), tenant('bolt')]);
  const after = desiredState([tenant('acme'), tenant('bolt', { workspaces: [moved] })]);

  it('says a moved workspace moved, on both halves, naming the other tenant', () => {
    const p = plan(after, inventoryFor(before));
    expect(find(p, 'delete:workspace:org-acme:ws-alpha').reason).toMatch(/^moved to tenant bolt \(org org-bolt\)/);
    expect(find(p, 'create:workspace:org-bolt:ws-alpha').reason).toMatch(/^moved from tenant acme \(org org-acme\)/);
  });

  it('a moved workspace is planned the same when only the two tenants are in scope', () => {
    const scoped = plan(after, inventoryFor(before, { scope: { kind: 'tenants', orgIds: ['org-acme', 'org-bolt'], slugs: [] } }));
    expect(ids(scoped)).toEqual(['delete:workspace:org-acme:ws-alpha', 'create:workspace:org-bolt:ws-alpha']);
  });

  it('the identity finding names the slug and both org ids, says how to proceed, and lists the blocked actions', () => {
    const p = plan(desiredState([tenant('acme', { orgId: 'org-new' })]), inventoryFor(desiredState([tenant('acme', { orgId: 'org-old' })])));
    const [finding] = p.guards;
    expect(finding!.message).toContain('tenant acme: the fleet declares org org-new, but acme is live under org org-old');
    expect(finding!.message).toContain('restore orgId: org-old in tenants/acme/tenant.yaml');
    expect(finding!.actionIds).toEqual(['create:tenant:org-new', 'delete:tenant:org-old']);
  });

  it('a slug live under several other orgs gets one identity finding per org, in org id order', () => {
    const d = desiredState([tenant('acme', { orgId: 'org-new' }), tenant('bolt')]);
    const inv = inventoryFor(desiredState([tenant('acme', { orgId: 'org-b' }), tenant('bolt')]));
    // Inserted after org-b, so the live map's key order is not org id order.
    Object.assign(inv.tenants, inventoryOf([liveTenantFor(tenant('acme', { orgId: 'org-a' }), d.fleet)]).tenants);
    const p = plan(d, inv);
    expect(p.guards.filter((g) => g.guard === 'identity').map((g) => g.message.slice(0, g.message.indexOf(';')))).toEqual([
      'tenant acme: the fleet declares org org-new, but acme is live under org org-a',
      'tenant acme: the fleet declares org org-new, but acme is live under org org-b',
    ]);
    expect(p.actions.filter((a) => a.blockedBy?.includes('identity')).map((a) => a.id)).toEqual(['delete:tenant:org-a', 'delete:tenant:org-b', 'create:tenant:org-new']);
  });

  it('the groupInUse finding names the group and the instance that holds it', () => {
    const d = desiredState([tenant('acme', { workspaces: [workspace('alpha')] }), tenant('bolt')]);
    const inv = inventoryFor(d);
    inv.tenants['org-bolt']!.instances[0]!.securityGroupIds.push('sg-w-ws-alpha');
    const p = plan(desiredState([tenant('acme'), tenant('bolt')]), inv);
    expect(p.guards.map((g) => g.message)).toEqual([
      expect.stringContaining('its security group sg-w-ws-alpha is still used by instance i-t-org-bolt (tenant bolt (org org-bolt), running)'),
    ]);
  });
});

describe('planChanges: details', () => {
  it('records before and after attributes and a reason on a resize', () => {
    const p = plan(
      base,
      liveWith(base, T, (t) => (t.instances[0]!.instanceType = 't3.micro')),
    );
    const a = find(p, 'resize:tenant:org-acme');
    expect(a.before).toEqual({ instanceType: 't3.micro', power: 'running' });
    expect(a.after).toEqual({ instanceType: 't3.small', power: 'running' });
    expect(a.reason).toBe('instance type t3.micro → t3.small');
  });

  it('says why a volume grows and why a shrink is refused', () => {
    const grow = find(
      plan(
        base,
        liveWith(base, T, (t) => (t.instances[0]!.volumeGb = 20)),
      ),
      'resize:tenant:org-acme',
    );
    expect(grow.before).toEqual({ volumeGb: 20, power: 'running' });
    expect(grow.after).toEqual({ volumeGb: 30, power: 'running' });
    expect(grow.reason).toBe('root volume 20 GB → 30 GB (grown in place)');
    const shrink = plan(
      base,
      liveWith(base, T, (t) => (t.instances[0]!.volumeGb = 100)),
    );
    expect(shrink.guards).toEqual([
      {
        guard: 'volumeShrink',
        blocking: false,
        message:
          'tenant acme (org org-acme): its root volume is 100 GB, larger than the declared 30 GB; EBS volumes cannot shrink, so it is kept as it is (only a new instance gets a smaller one)',
        actionIds: [],
      },
    ]);
  });

  it('plans a platform port change as a rule update of the tenant group, and nothing when the rules match', () => {
    const rules = (port: number) => [
      { protocol: 'tcp', fromPort: port, toPort: port, source: 'cidr:10.0.0.0/16' },
      { protocol: 'tcp', fromPort: 22, toPort: 22, source: 'sg:sg-eic' },
    ];
    const at8080 = liveWith(base, T, (t) => (t.securityGroups[0]!.ingress = rules(8080)));
    expect(plan(base, at8080).actions).toEqual([]);
    const moved = desiredState(base.tenants, fleetSpec({ tenant: { instanceType: 't3.small', volumeGb: 30, platformPort: 8443 } }));
    const p = plan(moved, at8080);
    const a = find(p, 'update:tenant:org-acme');
    expect(a.steps).toEqual([{ resource: 'securityGroup', op: 'modify', id: at8080.tenants[T]!.securityGroups[0]!.groupId }]);
    expect(a.before).toEqual({ platformPort: '8080' });
    expect(a.after).toEqual({ platformPort: 8443 });
    expect(a.reason).toBe('platform port rules differ from the declaration');
    // Rules not observed are never compared.
    expect(
      plan(
        moved,
        liveWith(moved, T, () => {}),
      ).actions.filter((x) => x.target.orgId === T),
    ).toEqual([]);
    // A range opened by hand besides the platform port is the same drift.
    const extra = liveWith(base, T, (t) => (t.securityGroups[0]!.ingress = [...rules(8080), { protocol: 'tcp', fromPort: 22, toPort: 22, source: 'cidr:0.0.0.0/0' }]));
    expect(find(plan(base, extra), 'update:tenant:org-acme').before).toEqual({ platformPort: '22, 8080' });
  });

  it('marks both halves of a replacement and says why', () => {
    const p = plan(
      base,
      liveWith(base, T, (t) => (t.instances[0]!.imageId = 'ami-0old')),
      { replace: ['acme'] },
    );
    const [del, create] = [find(p, 'delete:tenant:org-acme'), find(p, 'create:tenant:org-acme')];
    expect(del.replacement).toBe(true);
    expect(create.replacement).toBe(true);
    expect(del.reason).toContain('AMI ami-0old → ami-0base');
    expect(p.summary.delete).toBe(1);
    // A replacement is not a tenant delete for the maxDeletes guard.
    expect(p.guards).toEqual([]);
  });

  it('a replacement supersedes resize, power and redeploy of the same instance', () => {
    const p = plan(
      base,
      liveWith(base, T, (t) => {
        const i = t.instances[0]!;
        i.imageId = 'ami-0old';
        i.instanceType = 't3.micro';
        i.state = 'stopped';
        i.tags[Tag.image] = 'old';
      }),
      { replace: ['acme'] },
    );
    expect(ids(p)).toEqual(['delete:tenant:org-acme', 'create:tenant:org-acme']);
  });

  it('orders several changes to one target: resize, start, redeploy; tenant before its workspaces', () => {
    const d = desiredState([tenant('acme', { instanceType: 't3.medium', workspaces: [workspace('alpha', { instanceType: 't3.xlarge' })] })]);
    const inv = liveWith(desiredState([tenant('acme', { workspaces: [workspace('alpha')] })]), T, (t) => {
      t.instances[0]!.tags[Tag.image] = 'old';
      t.instances[0]!.tags[Tag.deletionProtection] = 'true';
    });
    const p = plan(d, inv);
    expect(ids(p)).toEqual(['update:tenant:org-acme', 'resize:tenant:org-acme', 'redeploy:tenant:org-acme', 'resize:workspace:org-acme:ws-alpha']);
    const stoppedLive = liveWith(d, T, (t) => (t.instances[0]!.state = 'stopped'));
    stoppedLive.tenants[T]!.instances[0]!.tags[Tag.image] = 'old';
    expect(ids(plan(d, stoppedLive))).toEqual(['start:tenant:org-acme', 'redeploy:tenant:org-acme']);
  });

  it('counts every action kind in the summary', () => {
    const d = desiredState([
      tenant('acme', { workspaces: [workspace('alpha')] }),
      tenant('bolt', { power: 'stopped' }),
      tenant('core', { instanceType: 't3.large' }),
      tenant('dune'),
      tenant('echo', { deletionProtection: true }),
      tenant('fern'),
      tenant('gold'),
    ]);
    const inv = inventoryFor(
      desiredState([tenant('acme'), tenant('bolt'), tenant('core'), tenant('dune'), tenant('echo'), tenant('fern'), tenant('gold'), tenant('zulu')]),
    );
    inv.tenants['org-dune']!.instances[0]!.tags[Tag.image] = 'old';
    inv.tenants['org-fern']!.dnsRecords = [];
    inv.tenants['org-gold']!.instances[0]!.state = 'stopped';
    const p = plan(d, inv);
    expect(p.summary).toEqual({ create: 1, repair: 1, update: 1, redeploy: 1, resize: 1, stop: 1, start: 1, delete: 1 });
    expect(p.actions).toHaveLength(8);
  });

  it('is deterministic: the order of declarations and of live records does not matter', () => {
    const tenants = ['kilo', 'alfa', 'mike', 'echo'].map((s) => tenant(s, { workspaces: [workspace('w2'), workspace('w1')] }));
    const d1 = desiredState(tenants);
    const d2 = desiredState([...tenants].reverse().map((t) => ({ ...t, workspaces: [...t.workspaces].reverse() })));
    const inv1 = inventoryOf([liveTenantFor(tenant('zed'), fleetSpec()), liveTenantFor(tenant('yak'), fleetSpec())]);
    const inv2 = inventoryOf([liveTenantFor(tenant('yak'), fleetSpec()), liveTenantFor(tenant('zed'), fleetSpec())]);
    const p1 = plan(d1, inv1, { allowDeletes: 5 });
    const p2 = plan(d2, inv2, { allowDeletes: 5 });
    expect(JSON.stringify(p1)).toBe(JSON.stringify(p2));
    expect(p1.actions.map((a) => a.target.slug).filter((s, i, all) => all.indexOf(s) === i)).toEqual(['alfa', 'echo', 'kilo', 'mike', 'yak', 'zed']);
  });

  it('records the basis: commit, desired hash, changedSince, scope, fingerprints', () => {
    const p = plan(base, inventoryOf([]), { changedSince: 'origin/main' });
    expect(p.createdAt).toBe(NOW);
    expect(p.basis).toMatchObject({ commit: base.commit, desiredHash: base.hash, changedSince: 'origin/main', scope: { kind: 'all' } });
    expect(p.basis.fingerprints['absent:tenant:org-acme']).toBe('absent');
    expect(p.basis.fingerprints['absent:workspace:org-acme:ws-alpha']).toBe('absent');
  });

  it('DNS record content is compared against the live tunnel', () => {
    const inv = liveWith(base, T, (t) => (t.dnsRecords[0]!.content = tunnelTarget('some-other-tunnel')));
    expect(steps(find(plan(base, inv), 'repair:tenant:org-acme'))).toEqual([`dnsRecord:modify@dns-${T}`, `ingress:create@tun-${T}`]);
  });
});

describe('planChanges: rollout waves', () => {
  function redeployAll(names: string[], canaries: string[], batches: DesiredState['fleet']['rollout']['batches']): Map<string, number | undefined> {
    const d = desiredState(
      names.map((n) => tenant(n, { canary: canaries.includes(n), workspaces: n === names[0] ? [workspace('w', { image: 'img:2' })] : [] })),
      fleetSpec({ rollout: { batches, maxFailureRatio: 0.25 } }),
    );
    const inv = inventoryFor(d);
    for (const t of Object.values(inv.tenants)) t.instances[0]!.tags[Tag.image] = 'old';
    const first = Object.values(inv.tenants).find((t) => t.slug === names[0])!;
    first.workspaces['ws-w']!.instances[0]!.tags[Tag.image] = 'img:1';
    const p = plan(d, inv);
    return new Map(p.actions.filter((a) => a.kind === 'redeploy').map((a) => [`${a.target.slug}${a.target.workspaceId ? `/${a.target.workspaceId}` : ''}`, a.wave]));
  }

  it('canaries go in wave 0, then a count, then a percent of the remaining (rounded up), then the rest', () => {
    const waves = redeployAll(['t1', 't2', 't3', 't4', 't5', 't6', 'c1', 'c2'], ['c1', 'c2'], [{ count: 1 }, { percent: 50 }]);
    expect(Object.fromEntries(waves)).toEqual({
      c1: 0,
      c2: 0,
      t1: 1,
      't1/ws-w': 1, // a workspace redeploy shares its tenant's wave
      t2: 2,
      t3: 2,
      t4: 2,
      t5: 3,
      t6: 3,
    });
  });

  it('percents then counts, without canaries', () => {
    const names = Array.from({ length: 10 }, (_, i) => `t${String(i).padStart(2, '0')}`);
    const waves = [...redeployAll(names, [], [{ percent: 25 }, { count: 2 }]).entries()].filter(([k]) => !k.includes('/'));
    expect(waves.map(([, w]) => w)).toEqual([1, 1, 1, 2, 2, 3, 3, 3, 3, 3]);
  });

  it('no batches: every non-canary in wave 1', () => {
    const waves = redeployAll(['a1', 'a2', 'a3'], ['a3'], []);
    expect(Object.fromEntries(waves)).toEqual({ a1: 1, 'a1/ws-w': 1, a2: 1, a3: 0 });
  });
});

describe('planChanges: guards', () => {
  const many = desiredState([tenant('keep')]);
  const live = inventoryFor(desiredState(['keep', 'd1', 'd2', 'd3', 'd4'].map((s) => tenant(s))));

  it('maxDeletes: four tenant deletes over a limit of three are blocked', () => {
    const p = plan(many, live);
    expect(p.actions.filter((a) => a.kind === 'delete').map((a) => a.blockedBy)).toEqual([['maxDeletes'], ['maxDeletes'], ['maxDeletes'], ['maxDeletes']]);
    expect(guards(p)).toEqual([['maxDeletes', true]]);
    expect(p.guards[0]!.actionIds).toHaveLength(4);
    expect(planExitCode(p)).toBe(3);
  });

  it('maxDeletes: --allow-deletes 3 is not enough, 4 is', () => {
    expect(planExitCode(plan(many, live, { allowDeletes: 3 }))).toBe(3);
    const allowed = plan(many, live, { allowDeletes: 4 });
    expect(guards(allowed)).toEqual([['maxDeletes', false]]);
    expect(allowed.actions.every((a) => a.blockedBy === undefined)).toBe(true);
    expect(planExitCode(allowed)).toBe(2);
  });

  it('maxDeletes: exactly the limit passes', () => {
    const three = inventoryFor(desiredState(['keep', 'd1', 'd2', 'd3'].map((s) => tenant(s))));
    const p = plan(many, three);
    expect(p.summary.delete).toBe(3);
    expect(p.guards).toEqual([]);
  });

  it('a protected and an over-limit delete carry both guards', () => {
    const inv = clone(live);
    inv.tenants['org-d1']!.deletionProtection = true;
    const p = plan(many, inv);
    expect(find(p, 'delete:tenant:org-d1').blockedBy).toEqual(['deletionProtection', 'maxDeletes']);
    expect(guards(p)).toEqual([
      ['maxDeletes', true],
      ['deletionProtection', true],
    ]);
    expect(p.guards[1]!.actionIds).toEqual(['delete:tenant:org-d1']);
  });

  it('a DeletionProtection tag on any live resource protects, even if the observer flag is unset', () => {
    const inv = inventoryFor(desiredState([tenant('keep'), tenant('gone')]));
    inv.tenants['org-gone']!.secrets[0]!.tags[Tag.deletionProtection] = 'TRUE';
    expect(find(plan(many, inv), 'delete:tenant:org-gone').blockedBy).toEqual(['deletionProtection']);
  });
});

describe('planChanges: scope', () => {
  const d = desiredState([tenant('acme'), tenant('bolt'), tenant('new')]);
  const inv = inventoryFor(desiredState([tenant('acme'), tenant('bolt'), tenant('old'), tenant('gone')]));
  inv.tenants['org-bolt']!.instances[0]!.instanceType = 't3.micro';

  it('plans only scoped tenants and never deletes outside the scope', () => {
    const scoped = { ...clone(inv), scope: { kind: 'tenants' as const, orgIds: ['org-new'], slugs: ['old'] } };
    const p = plan(d, scoped);
    expect(ids(p)).toEqual(['create:tenant:org-new', 'delete:tenant:org-old']);
    expect(guards(p)).toEqual([['scope', false]]);
    expect(p.basis.scope).toEqual({ kind: 'tenants', orgIds: ['org-new'], slugs: ['old'] });
  });

  it('says which scoped names match nothing', () => {
    const scoped = { ...clone(inv), scope: { kind: 'tenants' as const, orgIds: ['org-nobody'], slugs: [] } };
    const p = plan(d, scoped);
    expect(p.actions).toEqual([]);
    expect(p.guards[0]!.message).toContain('not declared nor live: org-nobody');
  });

  it('a partial desired state scopes the plan even over an unscoped inventory: nothing unloaded is deleted', () => {
    const partial: DesiredState = { ...desiredState([tenant('new')]), partial: { slugs: ['new', 'old'] } };
    const p = plan(partial, inv);
    expect(ids(p)).toEqual(['create:tenant:org-new', 'delete:tenant:org-old']);
    expect(guards(p)).toEqual([['scope', false]]);
    expect(p.basis.scope).toEqual({ kind: 'tenants', orgIds: ['org-new'], slugs: ['new', 'old'] });
  });

  it('a pull request that only removes a tenant plans its delete, not an emptyDesired refusal', () => {
    const removal: DesiredState = { ...desiredState([]), partial: { slugs: ['old'] } };
    const scoped = { ...clone(inv), scope: { kind: 'tenants' as const, orgIds: [], slugs: ['old'] } };
    const p = plan(removal, scoped);
    expect(ids(p)).toEqual(['delete:tenant:org-old']);
    expect(guards(p)).toEqual([['scope', false]]);
    expect(planExitCode(p)).toBe(2);
  });

  it('without scope the same inputs plan everything', () => {
    expect(ids(plan(d, inv))).toEqual(['resize:tenant:org-bolt', 'delete:tenant:org-gone', 'create:tenant:org-new', 'delete:tenant:org-old']);
  });
});

describe('bundle content: backup settings (BackupConfig tag)', () => {
  const desired = desiredState([tenant('acme')]);
  const settings = { s3Prefix: 's3://b/', reportUrl: 'https://r.example/x?token=t' };

  it('is not compared without the wiring, and a bundle without the tag counts as off', () => {
    const inv = inventoryFor(desired);
    expect(planChanges(desired, inv, { now: NOW }).actions).toEqual([]);
    expect(planChanges(desired, inv, { now: NOW, backup: {} }).actions).toEqual([]);
  });

  it('a difference is an update that rewrites the bundle and has the platform re-read it', () => {
    const inv = inventoryFor(desired);
    const p = planChanges(desired, inv, { now: NOW, backup: settings });
    const t = inv.tenants[desired.tenants[0]!.spec.orgId]!;
    expect(p.actions.map((a) => [a.kind, a.steps])).toEqual([
      [
        'update',
        [
          { resource: 'secret', op: 'modify', id: t.secrets[0]!.arn },
          { resource: 'command', op: 'run', id: t.instances[0]!.instanceId },
        ],
      ],
    ]);
    expect(JSON.stringify(p)).not.toContain('token=t');
    // Once the tag says so, nothing to do; removing the settings is an update back to off.
    t.secrets[0]!.tags[Tag.backupConfig] = backupConfigTag(t.orgId, settings);
    expect(planChanges(desired, inv, { now: NOW, backup: settings }).actions).toEqual([]);
    expect(planChanges(desired, inv, { now: NOW, backup: {} }).actions.map((a) => [a.kind, a.before, a.after])).toEqual([
      ['update', { backups: backupConfigTag(t.orgId, settings) }, { backups: 'off' }],
    ]);
  });
});

describe('planChanges: destruction guards (issue 8)', () => {
  const protectedAcme = desiredState([tenant('acme', { deletionProtection: true, workspaces: [workspace('alpha'), workspace('beta')] }), tenant('bolt')]);

  it('an older AMI is a notice naming every instance that runs it, and exits 0', () => {
    const p = plan(
      base,
      liveWith(base, T, (t) => {
        t.instances[0]!.imageId = 'ami-0old';
        t.workspaces['ws-beta']!.instances[0]!.imageId = 'ami-0old';
      }),
    );
    expect(p.actions).toEqual([]);
    expect(p.notices).toHaveLength(1);
    expect(p.notices[0]!.kind).toBe('olderAmi');
    expect(p.notices[0]!.targets).toEqual(['acme', 'acme/beta']);
    expect(p.notices[0]!.message).toMatch(/^2 instances run an older AMI/);
    expect(p.notices[0]!.message).toContain('--replace');
    expect(planExitCode(p)).toBe(0);
  });

  it('--replace is recorded in the basis, and the replacement says it was requested', () => {
    const p = plan(base, inventoryFor(base), { replace: ['acme/beta', 'acme'] });
    expect(p.basis.replace).toEqual(['acme', 'acme/beta']);
    expect(find(p, 'delete:tenant:org-acme').reason).toContain('--replace acme');
    expect(ids(p)).toEqual(['delete:tenant:org-acme', 'create:tenant:org-acme', 'delete:workspace:org-acme:ws-beta', 'create:workspace:org-acme:ws-beta']);
  });

  it('a workspace delete of a tenant declared protected is blocked', () => {
    const d = desiredState([tenant('acme', { deletionProtection: true, workspaces: [workspace('alpha')] }), tenant('bolt')]);
    const p = plan(d, inventoryFor(protectedAcme));
    expect(find(p, 'delete:workspace:org-acme:ws-beta').blockedBy).toEqual(['deletionProtection']);
    expect(guards(p)).toEqual([['deletionProtection', true]]);
    expect(p.guards[0]!.message).toMatch(/workspace ws-beta of tenant acme .*its tenant acme is protected/);
    expect(planExitCode(p)).toBe(3);
  });

  it('the live tag on the tenant wins: its workspace stays protected when the file drops protection in the same change', () => {
    const d = desiredState([tenant('acme', { workspaces: [workspace('alpha')] }), tenant('bolt')]);
    const inv = inventoryFor(protectedAcme);
    // Even a workspace without the tag of its own is protected by its tenant's live tag.
    delete inv.tenants[T]!.workspaces['ws-beta']!.instances[0]!.tags[Tag.deletionProtection];
    delete inv.tenants[T]!.workspaces['ws-beta']!.securityGroups[0]!.tags[Tag.deletionProtection];
    const p = plan(d, inv);
    expect(find(p, 'delete:workspace:org-acme:ws-beta').blockedBy).toEqual(['deletionProtection']);
    expect(planExitCode(p)).toBe(3);
  });

  it('a workspace replacement (runtime change) of a protected tenant is blocked, both halves', () => {
    const p = plan(
      protectedAcme,
      liveWith(protectedAcme, T, (t) => (t.workspaces['ws-alpha']!.instances[0]!.tags[Tag.runtime] = 'hermes')),
    );
    expect(find(p, 'delete:workspace:org-acme:ws-alpha').blockedBy).toEqual(['deletionProtection']);
    expect(find(p, 'create:workspace:org-acme:ws-alpha').blockedBy).toEqual(['deletionProtection']);
    expect(planExitCode(p)).toBe(3);
  });

  it("a change of the tenant's protection is a tag update on its workspaces' instances and groups too", () => {
    const p = plan(protectedAcme, inventoryFor(base));
    expect(ids(p)).toEqual(['update:tenant:org-acme', 'update:workspace:org-acme:ws-alpha', 'update:workspace:org-acme:ws-beta']);
    const ws = find(p, 'update:workspace:org-acme:ws-alpha');
    expect(steps(ws)).toEqual(['tags:modify@i-w-ws-alpha', 'tags:modify@sg-w-ws-alpha']);
    expect(ws.before).toEqual({ deletionProtection: false });
    expect(ws.after).toEqual({ deletionProtection: true });
  });

  describe('maxTerminations', () => {
    const six = desiredState([tenant('acme', { workspaces: ['a', 'b', 'c', 'd', 'e', 'f'].map((n) => workspace(n)) })]);
    const none = desiredState([tenant('acme')]);

    it('six workspace deletes exceed the default of five: blocked, exit 3', () => {
      const p = plan(none, inventoryFor(six));
      expect(p.actions.map((a) => a.blockedBy)).toEqual(Array(6).fill(['maxTerminations']));
      expect(guards(p)).toEqual([['maxTerminations', true]]);
      expect(p.guards[0]!.message).toContain('6 instance terminations outside a tenant cascade');
      expect(p.guards[0]!.message).toContain('pass --allow-terminations 6');
      expect(planExitCode(p)).toBe(3);
    });

    it('--allow-terminations 5 is not enough, 6 is', () => {
      expect(planExitCode(plan(none, inventoryFor(six), { allowTerminations: 5 }))).toBe(3);
      const allowed = plan(none, inventoryFor(six), { allowTerminations: 6 });
      expect(guards(allowed)).toEqual([['maxTerminations', false]]);
      expect(allowed.actions.every((a) => a.blockedBy === undefined)).toBe(true);
      expect(planExitCode(allowed)).toBe(2);
    });

    it('counts the delete half of every replacement, and holds both halves', () => {
      const fleet = fleetSpec({ guards: { maxDeletes: 3, maxTerminations: 2 } });
      const d = desiredState(six.tenants, fleet);
      const p = plan(d, inventoryFor(d), { replace: ['acme', 'acme/a', 'acme/b'] });
      expect(guards(p)).toEqual([['maxTerminations', true]]);
      expect(p.actions.filter((a) => a.replacement).every((a) => a.blockedBy?.includes('maxTerminations'))).toBe(true);
      expect(p.guards[0]!.actionIds).toHaveLength(6);
      expect(planExitCode(plan(d, inventoryFor(d), { replace: ['acme', 'acme/a'] }))).toBe(2);
    });

    it('a tenant cascade is not counted (maxDeletes covers it)', () => {
      const p = plan(desiredState([tenant('bolt')]), inventoryFor(desiredState([...six.tenants, tenant('bolt')])));
      expect(ids(p)).toEqual(['delete:tenant:org-acme']);
      expect(p.guards).toEqual([]);
    });
  });

  it('unknownReplaceTargets names requests that match no declared tenant or workspace', () => {
    expect(unknownReplaceTargets(base, ['acme', 'acme/alpha', 'acme/ws-beta', 'nobody', 'acme/gamma'])).toEqual(['nobody', 'acme/gamma']);
  });
});

describe('evaluateDestructionGuards: what apply re-checks on any action list', () => {
  const d = desiredState([tenant('acme', { deletionProtection: true, workspaces: [workspace('alpha')] }), tenant('bolt')]);
  const inv = inventoryFor(d);
  const limits = d.fleet.guards;
  const forged = (target: Action['target'], o: Partial<Action> = {}): Action => ({
    id: `delete:${target.kind}:${target.orgId}${target.workspaceId ? `:${target.workspaceId}` : ''}`,
    kind: 'delete',
    target,
    steps: [],
    before: null,
    after: null,
    reason: 'forged',
    intent: { kind: 'instanceReplace', orgId: target.orgId, slug: target.slug, instanceIds: [] },
    ...o,
  });

  it('a delete of a declared, protected tenant is refused twice over, whatever the plan says about it', () => {
    const r = evaluateDestructionGuards([forged({ kind: 'tenant', orgId: T, slug: 'acme' })], { inventory: inv, desired: d, limits, allow: {} });
    expect(r.findings.map((f) => [f.guard, f.blocking])).toEqual([
      ['deletionProtection', true],
      ['declared', true],
    ]);
    expect(r.findings[1]!.message).toContain('tenants/acme/tenant.yaml');
  });

  it('a delete of a declared, unprotected workspace is refused as declared; without the fleet at hand only the live tags decide', () => {
    const w = forged({ kind: 'workspace', orgId: 'org-bolt', slug: 'bolt', workspaceId: 'ws-x' });
    const dd = desiredState([tenant('bolt', { workspaces: [workspace('x')] })]);
    const r = evaluateDestructionGuards([w], { inventory: inventoryFor(dd), desired: dd, limits, allow: {} });
    expect(r.blocks.get(w.id)).toEqual(['declared']);
    expect(evaluateDestructionGuards([w], { inventory: inventoryFor(dd), limits, allow: {} }).findings).toEqual([]);
  });

  it('a forged replacement of a protected tenant is refused from the live tag alone', () => {
    const del = forged({ kind: 'tenant', orgId: T, slug: 'acme' }, { replacement: true, steps: [{ resource: 'instance', op: 'delete', id: TI }] });
    const r = evaluateDestructionGuards([del], { inventory: inv, limits, allow: {} });
    expect(r.blocks.get(del.id)).toEqual(['deletionProtection']);
  });

  it("limits are counted from the actions, never from the plan's guard list", () => {
    const many = Array.from({ length: 4 }, (_, i) => forged({ kind: 'tenant', orgId: `org-gone${i}`, slug: `gone${i}` }));
    const r = evaluateDestructionGuards(many, { inventory: inv, desired: d, limits, allow: {} });
    expect(r.findings.map((f) => [f.guard, f.blocking])).toEqual([['maxDeletes', true]]);
    expect(withBlocks(many, r.blocks).every((a) => a.blockedBy?.[0] === 'maxDeletes')).toBe(true);
    expect(evaluateDestructionGuards(many, { inventory: inv, desired: d, limits, allow: { deletes: 4 } }).findings.every((f) => !f.blocking)).toBe(true);
  });
});
