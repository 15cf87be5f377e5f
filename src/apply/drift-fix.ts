/**
 * `drift --fix`: repairs the drift it can through the same act primitives apply uses (group
 * rules, ingress, CNAME, power, resize, tags, bundle restore, the instance profile's
 * association), under the caller's lease, rate gate and audit recorder. Never deletes a tenant
 * or any resource (a revoked rule and a replaced profile association are the only things
 * removed). What needs a create (a missing resource, a grown volume) is left to apply; what
 * cannot change in place (AMI, a bundle's lost values) is left to the operator with the
 * finding's remedy.
 */
import { CreateTagsCommand } from '@aws-sdk/client-ec2';
import { RestoreSecretCommand, TagResourceCommand } from '@aws-sdk/client-secrets-manager';
import { Tag } from '../contract.js';
import type { DriftCode, DriftFinding, FixOutcome } from '../drift/model.js';
import { auditableError, awsCall } from './cloud.js';
import { actIn, type ActContext } from './context.js';
import { ensureCname } from './dns.js';
import { ensureIngress } from './ingress.js';
import { ensureInstanceProfile } from './instance-profile.js';
import { resizeTarget, startTarget, stopTarget, type LifecycleTarget } from './lifecycle.js';
import { reconcileGroupRules } from './security-group.js';

export type { FixOutcome } from '../drift/model.js';

/** What the repairs need to know beyond a finding: ids and declared values from desired + inventory. */
export interface FixLookup {
  /** The tenant's live tunnel id, when it has one. */
  tunnelId(orgId: string): string | undefined;
  /** The workspace id of a tenant's workspace, by file name. */
  workspaceId(orgId: string, workspace: string): string | undefined;
  /** The declared instance type and tier of a tenant or workspace. */
  declared(orgId: string, workspace: string | undefined): { instanceType: string; tier?: string } | undefined;
}

const RULES: ReadonlySet<DriftCode> = new Set(['ruleOpenToWorld', 'sshNotFromEic', 'ruleExtra', 'ruleMissing']);
const INGRESS: ReadonlySet<DriftCode> = new Set(['ingressOrigin', 'ingressRules', 'ingressMissing']);
const RECORD: ReadonlySet<DriftCode> = new Set(['recordContent', 'recordProxied', 'recordTtl', 'danglingRecord']);
const TO_APPLY: ReadonlySet<DriftCode> = new Set([
  'tunnelMissing',
  'recordMissing',
  'bundleMissing',
  'securityGroupMissing',
  'instanceMissing',
  'volumeSize',
  'backupConfig',
]);

type Repair = { codes: DriftCode[]; first: DriftFinding; run: (() => Promise<string>) | { status: 'leftToApply' | 'manual'; detail: string } };

export async function repairDrift(ctx: ActContext, findings: readonly DriftFinding[], lookup: FixLookup): Promise<FixOutcome[]> {
  const repairs = new Map<string, Repair>();
  const add = (key: string, f: DriftFinding, run: Repair['run']) => {
    const r = repairs.get(key);
    if (r) r.codes.push(f.code);
    else repairs.set(key, { codes: [f.code], first: f, run });
  };
  const tags = new Map<string, { f: DriftFinding; want: Record<string, string> }>();

  const outer = ctx;
  for (const f of findings) {
    // Each finding is repaired in its tenant's account (src/accounts.ts).
    const ctx = actIn(outer, f.account);
    const tenant = { orgId: f.orgId, slug: f.slug };
    const key = `${f.orgId}\u0000${f.workspace ?? ''}\u0000${f.resource}\u0000${f.resourceId}`;
    const target = lifecycleTarget(f, lookup);
    if (RULES.has(f.code)) {
      const workspaceId = f.workspace ? lookup.workspaceId(f.orgId, f.workspace) : undefined;
      const owner = workspaceId ? { role: 'workspace' as const, ...tenant, workspaceId } : { role: 'tenant' as const, ...tenant };
      add(`${key}\u0000rules`, f, async () => {
        await reconcileGroupRules(ctx, f.resourceId, owner);
        return 'rules set to the contract';
      });
    } else if (INGRESS.has(f.code)) {
      add(`${key}\u0000ingress`, f, async () => {
        await ensureIngress(ctx, tenant, f.resourceId);
        return 'ingress rewritten: hostname → platform service, then catch-all 404';
      });
    } else if (RECORD.has(f.code)) {
      const tunnelId = lookup.tunnelId(f.orgId);
      add(
        `${f.orgId}\u0000record`,
        f,
        tunnelId
          ? async () => {
              await ensureCname(ctx, tenant, tunnelId);
              return `record points at ${tunnelId}.cfargotunnel.com, proxied, automatic TTL`;
            }
          : { status: 'leftToApply', detail: 'the tenant has no tunnel: apply recreates it and repoints the record' },
      );
    } else if (f.code === 'bundleScheduledForDeletion') {
      add(`${key}\u0000restore`, f, async () => {
        await awsCall(ctx, 'secretsmanager', 'RestoreSecret', `secret ${f.resourceId}`, () => ctx.aws.secrets.send(new RestoreSecretCommand({ SecretId: f.resourceId })));
        ctx.audit({ kind: 'secret', resourceId: f.resourceId, orgId: f.orgId, state: 'restored', details: { by: 'drift --fix' } });
        return 'restored';
      });
    } else if (f.code === 'tag' && f.expected?.startsWith(`${Tag.image}=`)) {
      // The Image tag says what was deployed (and verified healthy): only a redeploy may move it.
      add(`${key}\u0000image`, f, { status: 'leftToApply', detail: f.remedy ?? 'apply redeploys the declared image' });
    } else if (f.code === 'tag' && f.expected) {
      const eq = f.expected.indexOf('=');
      const entry = tags.get(key) ?? { f, want: {} };
      entry.want[f.expected.slice(0, eq)] = f.expected.slice(eq + 1);
      tags.set(key, entry);
    } else if (f.code === 'power' && target) {
      add(`${key}\u0000power`, f, async () => {
        if (f.expected === 'running') await startTarget(ctx, target);
        else await stopTarget(ctx, target);
        return f.expected === 'running' ? 'started' : 'stopped';
      });
    } else if (f.code === 'instanceProfile' && f.resourceId !== '') {
      const workspaceId = f.workspace ? lookup.workspaceId(f.orgId, f.workspace) : undefined;
      add(`${key}\u0000profile`, f, async () => {
        const done = await ensureInstanceProfile(ctx, f.resourceId, { orgId: f.orgId, ...(workspaceId ? { workspaceId } : {}) });
        const name = ctx.wiring.instanceProfileName;
        if (done.action === 'unchanged') return `instance profile ${name} already associated`;
        return done.action === 'replaced' ? `instance profile association of ${done.was ?? '(unknown)'} replaced by ${name}` : `instance profile ${name} associated`;
      });
    } else if (f.code === 'instanceType' && target && lookup.declared(f.orgId, f.workspace)) {
      const want = lookup.declared(f.orgId, f.workspace)!;
      add(`${key}\u0000resize`, f, async () => {
        await resizeTarget(ctx, target, want.instanceType, want.tier);
        return `resized to ${want.instanceType}`;
      });
    } else if (TO_APPLY.has(f.code)) {
      add(`${key}\u0000${f.code}`, f, { status: 'leftToApply', detail: f.remedy ?? 'run tenantform apply' });
    } else {
      add(`${key}\u0000${f.code}`, f, { status: 'manual', detail: f.remedy ?? 'not fixable in place' });
    }
  }
  for (const [key, { f, want }] of tags) {
    add(`${key}\u0000tags`, f, async () => {
      await stampTags(actIn(ctx, f.account), f, want, f.workspace ? lookup.workspaceId(f.orgId, f.workspace) : undefined);
      return `tagged ${Object.keys(want).sort().join(', ')}`;
    });
  }

  const outcomes: FixOutcome[] = [];
  // One repair at a time: drift repairs are few, and the rate gate already paces every call.
  for (const r of repairs.values()) {
    const base = {
      slug: r.first.slug,
      ...(r.first.workspace ? { workspace: r.first.workspace } : {}),
      resource: r.first.resource,
      resourceId: r.first.resourceId,
      codes: r.codes,
    };
    if (typeof r.run !== 'function') {
      outcomes.push({ ...base, status: r.run.status, detail: r.run.detail });
      continue;
    }
    try {
      outcomes.push({ ...base, status: 'fixed', detail: await r.run() });
    } catch (e) {
      outcomes.push({ ...base, status: 'failed', detail: auditableError(ctx, e) });
    }
  }
  return outcomes;
}

function lifecycleTarget(f: DriftFinding, lookup: FixLookup): LifecycleTarget | undefined {
  if (!f.workspace) return { role: 'tenant', orgId: f.orgId, slug: f.slug };
  const workspaceId = lookup.workspaceId(f.orgId, f.workspace);
  return workspaceId ? { role: 'workspace', orgId: f.orgId, slug: f.slug, workspaceId } : undefined;
}

async function stampTags(ctx: ActContext, f: DriftFinding, want: Record<string, string>, workspaceId: string | undefined): Promise<void> {
  const Tags = Object.entries(want).map(([Key, Value]) => ({ Key, Value }));
  if (f.resource === 'secret') {
    await awsCall(ctx, 'secretsmanager', 'TagResource', `secret ${f.resourceId}`, () => ctx.aws.secrets.send(new TagResourceCommand({ SecretId: f.resourceId, Tags })));
  } else {
    await awsCall(ctx, 'ec2', 'CreateTags', `${f.resource} ${f.resourceId}`, () => ctx.aws.ec2.send(new CreateTagsCommand({ Resources: [f.resourceId], Tags })));
  }
  const kind = f.resource === 'secret' ? 'secret' : f.resource === 'securityGroup' ? 'securityGroup' : 'instance';
  ctx.audit({
    kind,
    resourceId: f.resourceId,
    orgId: f.orgId,
    ...(workspaceId ? { workspaceId } : {}),
    state: 'updated',
    details: { tags: Object.keys(want).sort().join(','), by: 'drift --fix' },
  });
}
