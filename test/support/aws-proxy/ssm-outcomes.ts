/**
 * moto reports every SSM command invocation as Success at once. These rules make invocations on
 * chosen instances fail, time out, or stay InProgress for a number of polls, by rewriting the
 * GetCommandInvocation and ListCommands responses. A poll is any response covering the invocation.
 */

export interface RuleHandle {
  remove(): void;
}

export interface SsmFailureRule {
  instanceIds: string[];
  /** Default 'Failed'. */
  status?: 'Failed' | 'TimedOut';
  /** Default 1 for Failed, -1 for TimedOut (never 0). */
  responseCode?: number;
  /** Default a short note that the failure was injected. */
  stderr?: string;
}

export interface SsmInProgressRule {
  /** How many polls of each matching invocation show InProgress. */
  polls: number;
  /** Default: every instance. */
  instanceIds?: string[];
}

interface Outcome {
  status: string;
  details: string;
  responseCode: number;
  stderr?: string;
}

export class SsmOutcomes {
  private failures: SsmFailureRule[] = [];
  private inProgress: SsmInProgressRule[] = [];
  /** Polls seen per `commandId/instanceId`. */
  private polls = new Map<string, number>();
  /** The instance ids each SendCommand asked for (moto's own list wrongly holds every instance). */
  private requested = new Map<string, string[]>();

  fail(rule: SsmFailureRule): RuleHandle {
    this.failures.push(rule);
    return this.handle(() => (this.failures = this.failures.filter((r) => r !== rule)));
  }

  holdInProgress(rule: SsmInProgressRule): RuleHandle {
    this.inProgress.push(rule);
    return this.handle(() => (this.inProgress = this.inProgress.filter((r) => r !== rule)));
  }

  clear(): void {
    this.failures = [];
    this.inProgress = [];
  }

  get active(): boolean {
    return this.failures.length > 0 || this.inProgress.length > 0;
  }

  private handle(remove: () => void): RuleHandle {
    return { remove };
  }

  rememberSendCommand(request: Record<string, unknown>, response: Record<string, unknown>): void {
    const command = response['Command'] as { CommandId?: string } | undefined;
    const ids = request['InstanceIds'];
    if (command?.CommandId && Array.isArray(ids)) this.requested.set(command.CommandId, ids.map(String));
  }

  private outcome(commandId: string, instanceId: string): Outcome | undefined {
    const key = `${commandId}/${instanceId}`;
    const seen = (this.polls.get(key) ?? 0) + 1;
    this.polls.set(key, seen);
    const hold = this.inProgress.find((r) => !r.instanceIds || r.instanceIds.includes(instanceId));
    if (hold && seen <= hold.polls) return { status: 'InProgress', details: 'InProgress', responseCode: -1 };
    const failure = this.failures.find((r) => r.instanceIds.includes(instanceId));
    if (!failure) return undefined;
    const status = failure.status ?? 'Failed';
    return {
      status,
      details: status === 'TimedOut' ? 'ExecutionTimedOut' : 'Failed',
      responseCode: failure.responseCode ?? (status === 'TimedOut' ? -1 : 1),
      stderr: failure.stderr ?? 'command failed (injected by the test proxy)',
    };
  }

  rewriteGetCommandInvocation(response: Record<string, unknown>): Record<string, unknown> {
    const outcome = this.outcome(String(response['CommandId']), String(response['InstanceId']));
    if (!outcome) return response;
    const rewritten: Record<string, unknown> = {
      ...response,
      Status: outcome.status,
      StatusDetails: outcome.details,
      ResponseCode: outcome.responseCode,
    };
    if (outcome.stderr !== undefined) rewritten['StandardErrorContent'] = outcome.stderr;
    if (outcome.status === 'InProgress') delete rewritten['ExecutionEndDateTime'];
    return rewritten;
  }

  rewriteListCommands(response: Record<string, unknown>): Record<string, unknown> {
    const commands = response['Commands'];
    if (!Array.isArray(commands)) return response;
    return {
      ...response,
      Commands: commands.map((raw: Record<string, unknown>) => {
        const commandId = String(raw['CommandId']);
        const instanceIds = this.requested.get(commandId) ?? (Array.isArray(raw['InstanceIds']) ? raw['InstanceIds'].map(String) : []);
        const outcomes = instanceIds.map((id) => this.outcome(commandId, id));
        const failed = outcomes.filter((o) => o && o.status !== 'InProgress');
        const running = outcomes.some((o) => o?.status === 'InProgress');
        if (!running && failed.length === 0) return raw;
        const status = running ? 'InProgress' : failed.some((o) => o?.status === 'Failed') ? 'Failed' : 'TimedOut';
        return {
          ...raw,
          Status: status,
          StatusDetails: status,
          ErrorCount: failed.length,
          CompletedCount: outcomes.filter((o) => o?.status !== 'InProgress').length,
        };
      }),
    };
  }
}
