/**
 * Shell scripts over SSM Run Command, with a result per instance. SendCommand takes at most 50
 * instance ids per call. Results are read with GetCommandInvocation per instance: moto has no
 * ListCommandInvocations, and the per-instance call also carries StatusDetails. The scripts hold
 * no secrets (SSM keeps parameters in its command history); output is never read into results.
 */
import { GetCommandInvocationCommand, SendCommandCommand } from '@aws-sdk/client-ssm';
import { CloudError } from '../errors.js';
import { auditableError, awsCall, hasCode } from './cloud.js';
import type { ActContext } from './context.js';
import { pollBackoff } from './poll.js';

export const MAX_INSTANCES_PER_SEND = 50;
const TERMINAL = new Set(['Success', 'Cancelled', 'TimedOut', 'Failed']);

export interface CommandTarget {
  instanceId: string;
  orgId: string;
  workspaceId?: string;
}

export interface InvocationResult extends CommandTarget {
  commandId: string | undefined;
  ok: boolean;
  /** SSM status (Success, Failed, TimedOut, Cancelled), or DeadlineExceeded / SendFailed. */
  status: string;
  statusDetails: string | undefined;
  responseCode: number | undefined;
}

export interface CommandRequest {
  targets: CommandTarget[];
  script: string;
  /** Shown in the SSM console; no secrets. */
  comment: string;
}

export async function runShellCommand(ctx: ActContext, req: CommandRequest): Promise<InvocationResult[]> {
  const results: InvocationResult[] = [];
  const pending: Array<{ target: CommandTarget; commandId: string }> = [];
  const timeoutSeconds = Math.max(30, Math.ceil(ctx.deadlines.commandMs / 1000));
  const commands = req.script.split('\n');

  for (let i = 0; i < req.targets.length; i += MAX_INSTANCES_PER_SEND) {
    const chunk = req.targets.slice(i, i + MAX_INSTANCES_PER_SEND);
    const ids = chunk.map((t) => t.instanceId);
    try {
      const out = await awsCall(ctx, 'ssm', 'SendCommand', `instances ${ids.join(', ')}`, () =>
        ctx.aws.ssm.send(
          new SendCommandCommand({
            DocumentName: 'AWS-RunShellScript',
            InstanceIds: ids,
            Parameters: { commands, executionTimeout: [String(timeoutSeconds)] },
            TimeoutSeconds: timeoutSeconds,
            Comment: req.comment.slice(0, 100),
          }),
        ),
      );
      const commandId = out.Command?.CommandId;
      if (!commandId) throw new CloudError('SendCommand returned no command id', { operation: 'SendCommand', resource: ids.join(', ') });
      for (const target of chunk) pending.push({ target, commandId });
    } catch (e) {
      // One failed send fails its chunk only: the caller decides whether the rollout halts.
      for (const target of chunk) {
        results.push({ ...target, commandId: undefined, ok: false, status: 'SendFailed', statusDetails: auditableError(ctx, e), responseCode: undefined });
      }
    }
  }

  const started = ctx.clock.now();
  const pause = pollBackoff(ctx.clock, ctx.deadlines.pollMs);
  while (pending.length > 0) {
    for (let i = pending.length - 1; i >= 0; i--) {
      const { target, commandId } = pending[i]!;
      let status: string | undefined;
      let details: string | undefined;
      let code: number | undefined;
      try {
        const inv = await awsCall(ctx, 'ssm', 'GetCommandInvocation', `instance ${target.instanceId}`, () =>
          ctx.aws.ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: target.instanceId })),
        );
        status = inv.Status;
        details = inv.StatusDetails;
        code = inv.ResponseCode;
      } catch (e) {
        // Right after SendCommand the invocation may not be visible yet.
        if (!hasCode(e, 'InvocationDoesNotExist')) throw e;
      }
      if (status && TERMINAL.has(status)) {
        results.push({ ...target, commandId, ok: status === 'Success', status, statusDetails: details, responseCode: code === -1 ? undefined : code });
        pending.splice(i, 1);
      }
    }
    if (pending.length === 0) break;
    if (ctx.clock.now() - started >= ctx.deadlines.commandMs) {
      for (const { target, commandId } of pending) {
        results.push({ ...target, commandId, ok: false, status: 'DeadlineExceeded', statusDetails: undefined, responseCode: undefined });
      }
      break;
    }
    await pause();
  }

  for (const r of results) {
    ctx.audit({
      kind: 'command',
      resourceId: r.commandId ?? 'not-sent',
      orgId: r.orgId,
      ...(r.workspaceId ? { workspaceId: r.workspaceId } : {}),
      state: r.ok ? 'succeeded' : 'failed',
      details: { instanceId: r.instanceId, status: r.status, comment: req.comment.slice(0, 100), ...(r.statusDetails ? { statusDetails: r.statusDetails } : {}) },
    });
  }
  const order = new Map(req.targets.map((t, i) => [t.instanceId, i]));
  return results.sort((a, b) => order.get(a.instanceId)! - order.get(b.instanceId)!);
}
