/**
 * Deleting the orphans a sweep found, with the apply path's own delete primitives (terminate and
 * wait, group delete with its DependencyViolation handling, bundle delete, record and tunnel
 * delete), in dependency order: instances and their waits, then security groups, bundles, DNS
 * records, tunnels. Only `delete` verdicts are acted on; each one ends `deleted` or `failed` with
 * an audit row either way (the primitives write the `deleted` rows). A failure never stops the
 * rest: a group whose instance would not terminate fails on its own, naming the instance.
 *
 * The list was judged when it was made; a resource (or its tenant) protected since then must not
 * go. So immediately before each termination or delete, apply's own last check
 * (src/apply/protection.ts) re-reads the org's live DeletionProtection tags, weighing the whole
 * org as the finder does; a refusal leaves the orphan alone as `protected`, with the reason.
 */
import { DeleteSecretCommand } from '@aws-sdk/client-secrets-manager';
import { secretName } from '../contract.js';
import { auditableError, awsCall, hasCode } from '../apply/cloud.js';
import { GuardRefusal } from '../errors.js';
import { actIn, type ActContext } from '../apply/context.js';
import { terminateInstances, waitForState } from '../apply/instance.js';
import { deleteBundle, DEFAULT_RECOVERY_WINDOW_DAYS } from '../apply/secret.js';
import { deleteGroup } from '../apply/security-group.js';
import { deleteRecord } from '../apply/dns.js';
import { deleteTunnel } from '../apply/tunnel.js';
import { refuseIfProtected } from '../apply/protection.js';
import { accountOf, type Account } from '../accounts.js';
import type { Orphan, SweepResourceKind } from './model.js';

const ORDER: readonly SweepResourceKind[] = ['instance', 'securityGroup', 'secret', 'dnsRecord', 'tunnel'];

/** Acts on every `delete` verdict, in place: each becomes `deleted` or `failed`. */
export async function deleteOrphans(ctx: ActContext, orphans: Orphan[], signal?: AbortSignal): Promise<void> {
  const todo = orphans.filter((o) => o.verdict === 'delete');
  for (const kind of ORDER) {
    const batch = todo.filter((o) => o.kind === kind);
    if (batch.length === 0) continue;
    if (signal?.aborted) {
      for (const o of batch) fail(ctx, o, 'not attempted: the sweep was stopped');
      continue;
    }
    // Each orphan is deleted with its own account's clients (src/accounts.ts).
    if (kind === 'instance') {
      for (const account of [...new Set(batch.map((o) => accountOf(o)))]) {
        await deleteInstances(
          actIn(ctx, account),
          batch.filter((o) => accountOf(o) === account),
        );
      }
    } else
      for (const o of batch) {
        const here = actIn(ctx, o.account);
        await settle(here, o, () => deleteOne(here, o));
      }
  }
}

async function deleteInstances(ctx: ActContext, batch: Orphan[]): Promise<void> {
  const started: Orphan[] = [];
  for (const o of batch) if (await settle(ctx, o, () => terminateInstances(ctx, [o.id]), false)) started.push(o);
  if (started.length === 0) return;
  // One wait for all: a stuck shutdown is an error naming the instance, never a silent leak.
  try {
    await waitForState(
      ctx,
      started.map((o) => o.id),
      'terminated',
      ctx.deadlines.terminationMs,
      'terminate orphaned instances',
    );
    for (const o of started) {
      o.verdict = 'deleted';
      ctx.audit({
        kind: 'instance',
        resourceId: o.id,
        orgId: o.orgId ?? '',
        ...(o.workspaceId ? { workspaceId: o.workspaceId } : {}),
        state: 'deleted',
        details: { sweep: o.reason },
      });
    }
  } catch (e) {
    for (const o of started) fail(ctx, o, auditableError(ctx, e));
  }
}

async function deleteOne(ctx: ActContext, o: Orphan): Promise<void> {
  const orgId = o.orgId ?? '';
  switch (o.kind) {
    case 'securityGroup':
      return deleteGroup(ctx, o.id, { orgId, ...(o.workspaceId ? { workspaceId: o.workspaceId } : {}) });
    case 'secret': {
      const window = ctx.fleet.deletion?.secretRecoveryWindowDays ?? DEFAULT_RECOVERY_WINDOW_DAYS;
      if (o.orgId && o.id === secretName(ctx.wiring.environment, o.orgId)) return deleteBundle(ctx, o.orgId, window);
      return deleteSecretByName(ctx, o.id, orgId, window);
    }
    case 'dnsRecord':
      return deleteRecord(ctx, { id: o.id, name: o.name ?? o.id }, orgId);
    case 'tunnel':
      return deleteTunnel(ctx, { id: o.id, name: o.name ?? o.id }, orgId);
    case 'instance':
      return terminateInstances(ctx, [o.id]);
  }
}

/** A marked secret under another name than the bundle's (deleteBundle derives the name from the org). */
async function deleteSecretByName(ctx: ActContext, name: string, orgId: string, window: number): Promise<void> {
  try {
    await awsCall(ctx, 'secretsmanager', 'DeleteSecret', `secret ${name}`, () =>
      ctx.aws.secrets.send(
        new DeleteSecretCommand(window === 0 ? { SecretId: name, ForceDeleteWithoutRecovery: true } : { SecretId: name, RecoveryWindowInDays: window }),
      ),
    );
  } catch (e) {
    if (!hasCode(e, 'ResourceNotFoundException')) throw e;
  }
  ctx.audit({ kind: 'secret', resourceId: name, orgId, state: 'deleted', details: { recoveryWindowDays: window } });
}

/**
 * Runs one delete after the protection check made at this moment; true when it succeeded.
 * `finish` marks it deleted (instances wait first).
 */
async function settle(ctx: ActContext, o: Orphan, fn: () => Promise<void>, finish = true): Promise<boolean> {
  try {
    // The org may live in both accounts (a DNS record or tunnel has none): its protection is read
    // in each, as the finder weighed it, so a tag set since in the other account still counts.
    if (o.orgId) {
      for (const account of ctx.accounts ? (Object.keys(ctx.accounts) as Account[]) : [undefined]) {
        await refuseIfProtected(actIn(ctx, account), { orgId: o.orgId, slug: o.slug ?? o.orgId }, `sweep delete ${o.kind}`);
      }
    }
  } catch (e) {
    if (!(e instanceof GuardRefusal)) {
      fail(ctx, o, auditableError(ctx, e));
      return false;
    }
    o.verdict = 'protected';
    o.error = ctx.redactor.redact(e.message);
    ctx.warn(o.error);
    return false;
  }
  try {
    await fn();
    if (finish) o.verdict = 'deleted';
    return true;
  } catch (e) {
    fail(ctx, o, auditableError(ctx, e));
    return false;
  }
}

function fail(ctx: ActContext, o: Orphan, error: string): void {
  o.verdict = 'failed';
  o.error = error;
  ctx.audit({
    kind: o.kind,
    resourceId: o.id,
    orgId: o.orgId ?? '',
    ...(o.workspaceId ? { workspaceId: o.workspaceId } : {}),
    state: 'failed',
    details: { event: 'sweepDeleteFailed', reason: o.reason, error },
  });
}
