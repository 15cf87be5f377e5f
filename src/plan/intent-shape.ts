/**
 * The plan file's form of intents and settings (src/plan/intent.ts): their shapes, the canonical
 * copy, and the read-back check. A read intent must also agree with its action: the right kind
 * for the action's kind and target, the target's own org, slug and workspace, and — for deletes —
 * exactly the ids of the action's steps, since the guards count steps and apply acts on the
 * intent: an edited file cannot make a delete reach further than its steps say.
 */
import { accountOf, ACCOUNTS } from '../accounts.js';
import { replacementIntent, workspaceDeleteIntent } from './intent-build.js';
import { INTENT_KINDS, type ActionIntent, type PlanSettings } from './intent.js';
import type { Action } from './model.js';
import { obj, oneOf, shaped, ShapeError, type Shape } from './shape.js';

const POWER = ['running', 'stopped'] as const;
const RATE: Shape = { fields: { perSecond: 'number', burst: 'number' } };

const SETTINGS: Shape = {
  fields: {
    region: 'string',
    appDomain: 'string',
    platformPort: 'count',
    budgets: {
      fields: {
        concurrency: 'count',
        ec2: { fields: { describe: RATE, mutate: RATE, runInstances: RATE, terminateInstances: RATE, authorizeIngress: RATE } },
        secretsManager: RATE,
        ssm: RATE,
        cloudflare: { fields: { requests: 'count', windowSeconds: 'number' } },
      },
    },
    rollout: { fields: { maxFailureRatio: 'number', healthCheck: { optional: { fields: { url: 'string', timeoutSeconds: 'count', intervalSeconds: 'count' } } } } },
    deletion: { fields: { secretRecoveryWindowDays: 'count', terminationDeadlineSeconds: 'count' } },
    guards: { fields: { maxDeletes: 'count', maxTerminations: 'count', maxReplacements: { optional: 'count' } } },
    quotas: { optional: { fields: { tunnelsPerAccount: 'count', dnsRecordsPerZone: 'count', vcpus: { optional: 'count' } } } },
  },
};

const TENANT: Shape = {
  fields: {
    orgId: 'string',
    slug: 'string',
    instanceType: 'string',
    volumeGb: 'count',
    ami: 'string',
    image: 'string',
    power: POWER,
    deletionProtection: 'boolean',
  },
};

const WORKSPACE: Shape = {
  fields: {
    orgId: 'string',
    slug: 'string',
    workspaceId: 'string',
    name: 'string',
    runtime: 'string',
    power: POWER,
    tier: 'string',
    instanceType: 'string',
    volumeGb: 'count',
    ami: 'string',
    image: { optional: 'string' },
    deletionProtection: { optional: 'boolean' },
  },
};

const ID_IN: Shape = { fields: { id: 'string', workspaceId: { optional: 'string' } } };
const NAMED: Shape = { fields: { id: 'string', name: 'string' } };

const ACCOUNT: Shape = { optional: ACCOUNTS };

const INTENTS: Record<ActionIntent['kind'], Shape> = {
  tenant: { fields: { kind: ['tenant'], tenant: TENANT, previousHostname: { optional: 'string' }, account: ACCOUNT } },
  workspace: { fields: { kind: ['workspace'], workspace: WORKSPACE, account: ACCOUNT } },
  tenantDelete: {
    fields: {
      kind: ['tenantDelete'],
      cascade: {
        fields: {
          orgId: 'string',
          slug: 'string',
          instances: { array: ID_IN },
          securityGroups: { array: ID_IN },
          secrets: { array: 'string' },
          dnsRecords: { array: NAMED },
          tunnels: { array: NAMED },
        },
      },
      account: ACCOUNT,
    },
  },
  workspaceDelete: {
    fields: {
      kind: ['workspaceDelete'],
      cascade: { fields: { orgId: 'string', slug: 'string', workspaceId: 'string', instances: { array: 'string' }, securityGroups: { array: 'string' } } },
      account: ACCOUNT,
    },
  },
  instanceReplace: {
    fields: { kind: ['instanceReplace'], orgId: 'string', slug: 'string', workspaceId: { optional: 'string' }, instanceIds: { array: 'string' }, account: ACCOUNT },
  },
};

export function canonicalSettings(s: PlanSettings | null): PlanSettings | null {
  return s === null ? null : (shaped(s, SETTINGS, '$.settings') as PlanSettings);
}

export function parseSettings(v: unknown, at: string): PlanSettings | null {
  return v === null ? null : (shaped(v, SETTINGS, at) as PlanSettings);
}

export function canonicalIntent(i: ActionIntent): ActionIntent {
  return shaped(i, INTENTS[i.kind], '$.intent') as ActionIntent;
}

/** The intent kind an action of this kind and target carries. */
export function intentKindFor(a: Pick<Action, 'kind' | 'target' | 'replacement'>): ActionIntent['kind'] {
  if (a.kind === 'delete') return a.replacement ? 'instanceReplace' : a.target.kind === 'tenant' ? 'tenantDelete' : 'workspaceDelete';
  return a.target.kind;
}

/** Reads `action.intent` and checks it against the action it rides on. */
export function parseIntent(v: unknown, a: Omit<Action, 'intent'>, at: string): ActionIntent {
  const kind = oneOf(obj(v, at).kind, INTENT_KINDS, `${at}.kind`);
  const want = intentKindFor(a);
  if (kind !== want) throw new ShapeError(`${at}.kind is ${kind}, but a ${a.kind} of a ${a.target.kind}${a.replacement ? ' (replacement)' : ''} carries ${want}`);
  const intent = shaped(v, INTENTS[kind], at) as ActionIntent;
  const t = a.target;
  const who = whoOf(intent);
  if (who.orgId !== t.orgId || who.slug !== t.slug || (t.kind === 'workspace' && who.workspaceId !== t.workspaceId)) {
    throw new ShapeError(`${at} names another target than the action's`);
  }
  const ids = (list: readonly string[]) => JSON.stringify([...list].sort());
  const stepIds = (resource: string) => a.steps.filter((s) => s.resource === resource && s.op === 'delete' && s.id !== undefined).map((s) => s.id!);
  let agrees = true;
  if (intent.kind === 'instanceReplace') {
    agrees = ids(intent.instanceIds) === ids((replacementIntent(t, a.steps) as typeof intent).instanceIds);
  } else if (intent.kind === 'workspaceDelete') {
    const expected = workspaceDeleteIntent({ ...t, workspaceId: t.workspaceId! }, a.steps) as typeof intent;
    agrees = ids(intent.cascade.instances) === ids(expected.cascade.instances) && ids(intent.cascade.securityGroups) === ids(expected.cascade.securityGroups);
  } else if (intent.kind === 'tenantDelete') {
    const c = intent.cascade;
    agrees =
      ids(c.instances.map((x) => x.id)) === ids(stepIds('instance')) &&
      ids(c.securityGroups.map((x) => x.id)) === ids(stepIds('securityGroup')) &&
      ids(c.secrets) === ids(stepIds('secret')) &&
      ids(c.dnsRecords.map((x) => x.id)) === ids(stepIds('dnsRecord')) &&
      ids(c.tunnels.map((x) => x.id)) === ids(stepIds('tunnel'));
  }
  if (!agrees) throw new ShapeError(`${at} deletes other ids than the action's steps`);
  // Apply acts in the intent's account: it must be the one the action says.
  if (accountOf(intent) !== accountOf(a)) throw new ShapeError(`${at}.account is ${accountOf(intent)}, but the action is in ${accountOf(a)}`);
  return intent;
}

function whoOf(i: ActionIntent): { orgId: string; slug: string; workspaceId?: string | undefined } {
  switch (i.kind) {
    case 'tenant':
      return i.tenant;
    case 'workspace':
      return i.workspace;
    case 'tenantDelete':
      return i.cascade;
    case 'workspaceDelete':
      return i.cascade;
    case 'instanceReplace':
      return i;
  }
}
