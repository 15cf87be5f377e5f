/**
 * One action of a plan, acted on from its kind, its steps and its `intent` (src/plan/intent.ts)
 * and the wiring in the context — never from the desired state or the display-only attributes.
 *
 * A resize grows the root volume in place first (ModifyVolume, wait until usable), then changes
 * the instance type, then grows the partition and filesystem over SSM, then sets the declared power.
 */
import { CloudError, InputError, InternalError } from '../errors.js';
import type { TenantIntent, WorkspaceIntent } from '../plan/intent.js';
import type { Action, ActionTarget } from '../plan/model.js';
import type { ActContext } from './context.js';
import { growFilesystemTarget, growVolumeTarget, redeploy, resizeTarget, startTarget, stopTarget, type LifecycleTarget, type RedeployResult } from './lifecycle.js';
import { createTenant, deleteTenant, repairTenant } from './tenant.js';
import { terminateForReplacement, updateTenant, updateWorkspace } from './update.js';
import { createWorkspace, deleteWorkspace } from './workspace.js';

export async function actOn(ctx: ActContext, a: Action): Promise<void> {
  const t = a.target;
  const intent = a.intent;
  switch (intent.kind) {
    case 'instanceReplace':
      return terminateForReplacement(ctx, a);
    case 'tenantDelete':
      return deleteTenant(ctx, { orgId: t.orgId, slug: t.slug }, { recorded: intent.cascade });
    case 'workspaceDelete':
      return deleteWorkspace(
        ctx,
        { orgId: t.orgId, slug: t.slug, workspaceId: intent.cascade.workspaceId },
        { instanceIds: intent.cascade.instances, groupIds: intent.cascade.securityGroups },
      );
    case 'tenant':
      return actOnTenant(ctx, a, intent.tenant, intent.previousHostname);
    case 'workspace':
      return actOnWorkspace(ctx, a, intent.workspace);
  }
}

async function actOnTenant(ctx: ActContext, a: Action, intent: TenantIntent, previousHostname: string | undefined): Promise<void> {
  const target = lifecycleTarget(a.target);
  switch (a.kind) {
    case 'create':
      await createTenant(ctx, intent, { cleanStale: !a.replacement });
      return;
    case 'repair': {
      await repairTenant(ctx, intent, a.steps);
      // A new tunnel means a new token in the bundle: the platform re-reads it when its container is recreated.
      if (a.steps.some((s) => s.resource === 'command')) await runOnInstance(ctx, a, target, intent.image);
      return;
    }
    case 'update':
      return updateTenant(ctx, a, intent, previousHostname);
    case 'resize':
      return resize(ctx, a, { instanceType: intent.instanceType, volumeGb: intent.volumeGb, power: intent.power });
    case 'start':
      return startTarget(ctx, target);
    case 'stop':
      return stopTarget(ctx, target);
  }
  throw new InternalError(`action kind ${a.kind} cannot be applied here`, { operation: 'apply', resource: a.id });
}

async function actOnWorkspace(ctx: ActContext, a: Action, intent: WorkspaceIntent): Promise<void> {
  const target = lifecycleTarget(a.target);
  switch (a.kind) {
    case 'create':
    case 'repair':
      await createWorkspace(ctx, intent, { rehome: a.steps.some((s) => s.resource === 'instance' && s.op === 'modify') });
      return;
    case 'update':
      return updateWorkspace(ctx, a, intent);
    case 'resize':
      return resize(ctx, a, { instanceType: intent.instanceType, volumeGb: intent.volumeGb, power: intent.power, tier: intent.tier });
    case 'start':
      return startTarget(ctx, target);
    case 'stop':
      return stopTarget(ctx, target);
  }
  throw new InternalError(`action kind ${a.kind} cannot be applied here`, { operation: 'apply', resource: a.id });
}

/** The image a redeploy rolls out: the declared one its intent records. */
export function redeployImage(a: Action): string {
  const image = a.intent.kind === 'tenant' ? a.intent.tenant.image : a.intent.kind === 'workspace' ? a.intent.workspace.image : undefined;
  if (!image) throw new InputError('a redeploy needs an image', { operation: 'apply redeploy', resource: a.id });
  return image;
}

/**
 * A resize: the root volume first (it grows while the instance runs or not), then the instance
 * type (stop → modify → start, restoring the power it found), then the partition and filesystem
 * over SSM (started for it if need be), and last the declared power.
 */
async function resize(ctx: ActContext, a: Action, want: { instanceType: string; volumeGb: number; power: 'running' | 'stopped'; tier?: string }): Promise<void> {
  const target = lifecycleTarget(a.target);
  const grows = a.steps.some((s) => s.resource === 'volume' && s.op === 'modify');
  const retypes = !grows || a.steps.some((s) => s.resource === 'instance' && s.op === 'modify');
  if (grows) await growVolumeTarget(ctx, target, want.volumeGb);
  if (retypes) await resizeTarget(ctx, target, want.instanceType, want.tier);
  if (grows) {
    await startTarget(ctx, target);
    await growFilesystemTarget(ctx, target);
  }
  // A resize restores the power state it found; the declaration may want the other one.
  if (want.power === 'running') await startTarget(ctx, target);
  else await stopTarget(ctx, target);
}

/** SSM needs a running instance: the plan's start → run → stop steps bracket the command. */
async function runOnInstance(ctx: ActContext, a: Action, target: LifecycleTarget, image: string): Promise<void> {
  const starts = a.steps.some((s) => s.resource === 'instance' && s.op === 'start');
  const stops = a.steps.some((s) => s.resource === 'instance' && s.op === 'stop');
  if (starts) await startTarget(ctx, target);
  const [result] = await redeploy(ctx, [{ target, image }]);
  if (!result?.ok) throw commandFailure(result, a);
  if (stops) await stopTarget(ctx, target);
}

export function lifecycleTarget(t: ActionTarget): LifecycleTarget {
  return t.kind === 'tenant' ? { role: 'tenant', orgId: t.orgId, slug: t.slug } : { role: 'workspace', orgId: t.orgId, slug: t.slug, workspaceId: t.workspaceId! };
}

export function commandFailure(r: RedeployResult | undefined, a: Action): CloudError {
  const what = r ? `${r.status}${r.statusDetails ? ` (${r.statusDetails})` : ''}${r.instanceId ? ` on ${r.instanceId}` : ''}` : 'no result';
  return new CloudError(`SSM command ${what}`, { operation: a.kind, resource: `${a.target.slug}${a.target.workspaceName ? `/${a.target.workspaceName}` : ''}` });
}
