/**
 * The fault layer: a loopback HTTP proxy in front of moto. The product only knows
 * AWS_ENDPOINT_URL; pointed at this proxy it reaches moto in the emulator's own account (the
 * proxy adds `x-moto-account-id`), every call is recorded, chosen calls fail on purpose, and the
 * behaviours moto gets wrong are corrected (FaithfulOptions).
 *
 * Second accounts. STS AssumeRole goes to moto, which answers for any role; the proxy remembers
 * which account each returned access key belongs to (the role ARN's) and sends that key's calls
 * to that account, so the product's assumed-role clients land in the canary account (moto alone
 * would let the forced header win). A client that sets `x-moto-account-id` itself (a test's
 * check client) keeps it. Rate limits are per account and region, as at AWS.
 */
import { request as httpRequest, createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isProductRequest, recordProductAction } from './action-record.js';
import { awsErrorReply, serverErrorReply, throttleReply, type ProxyReply } from './errors.js';
import { motoBackends, type MotoBackends } from './backends.js';
import {
  clientTokenFilter,
  dependencyViolation,
  maxResultsOutOfRange,
  resizeWhileNotStopped,
  RunInstancesIdempotency,
  startFromWrongState,
  tagsOnUnknownInstance,
} from './faithful-ec2.js';
import { createOverScheduledSecret, writeToScheduledSecret } from './faithful-secrets.js';
import { completeProfileReplacement } from './profile-associations.js';
import { ec2VcpuQuotaReply } from './service-quotas.js';
import { FaultRules, type FaultHandle, type FaultKind, type FaultSpec } from './faults.js';
import { InstanceStateHolds } from './instance-states.js';
import { VolumeModificationHolds } from './volume-modifications.js';
import { isMutatingAction, parseAwsRequest, type AwsRequest } from './request.js';
import { SsmOutcomes, type RuleHandle, type SsmFailureRule, type SsmInProgressRule } from './ssm-outcomes.js';

/** Corrections to moto, all on by default; each can be switched, also while a test runs. */
export interface FaithfulOptions {
  /** DeleteSecurityGroup fails with DependencyViolation while a non-terminated instance uses the group. */
  dependencyViolation: boolean;
  /** DescribeInstances responses showing `pending` after RunInstances/StartInstances (0 = off). */
  pendingPolls: number;
  /** DescribeInstances responses showing `stopping` after StopInstances (0 = off). */
  stoppingPolls: number;
  /** DescribeInstances responses showing `shutting-down` after TerminateInstances (0 = off). */
  shuttingDownPolls: number;
  /**
   * When > 0, pending/stopping/shutting-down last this many milliseconds of wall time, polled or
   * not (as on AWS), instead of the poll counts above. 0 (the default for tests, whose clocks are
   * virtual) counts polls; `npm run emulators` holds for 2 s.
   */
  transitionMs: number;
  /** DescribeVolumesModifications responses showing `modifying` after ModifyVolume (moto: completed at once). */
  volumeModifyingPolls: number;
  /** Then those showing `optimizing`. In time mode (`transitionMs`) each state lasts that long instead. */
  volumeOptimizingPolls: number;
  /** ModifyVolume refuses a smaller size (InvalidParameterValue) and a volume still being modified (IncorrectModificationState). */
  volumeModificationRules: boolean;
  /** IncorrectInstanceState for StartInstances on a terminated instance and for resizing a non-stopped one. */
  incorrectInstanceState: boolean;
  /** DescribeInstances MaxResults outside 5–1000 is InvalidParameterValue. */
  describeInstancesMaxResults: boolean;
  /** CreateTags naming an instance the account does not hold is InvalidInstanceID.NotFound (moto: 200, nothing tagged). */
  unknownInstanceTags: boolean;
  /** PutSecretValue/UpdateSecret on, and CreateSecret over, a secret scheduled for deletion fail like AWS. */
  scheduledSecretDeletion: boolean;
  /** RunInstances ClientToken idempotency. Switch off to prove find-before-create works without it. */
  clientTokenIdempotency: boolean;
  /**
   * A RunInstances call that failed leaves no trace of its ClientToken (as on AWS). Switch off to
   * have a failed call's token answer IdempotentParameterMismatch to other parameters, as a token
   * no instance holds (proves the instance step moves on to a fresh token).
   */
  forgetFailedClientTokens: boolean;
  /**
   * moto's Service Quotas backend knows only the `vpc` service code: GetServiceQuota for ec2
   * answers NoSuchResourceException. The proxy answers L-1216C47A (running On-Demand Standard
   * vCPUs) with this value instead; undefined passes the call to moto (the "cannot read" case).
   */
  ec2VcpuQuota: number | undefined;
  /**
   * ReplaceIamInstanceProfileAssociation moves the instance itself (DescribeInstances) to the new
   * profile, under a new association id, as on AWS; moto leaves the instance on the old profile.
   */
  profileReplacement: boolean;
}

export const defaultFaithfulOptions: FaithfulOptions = {
  dependencyViolation: true,
  pendingPolls: 1,
  stoppingPolls: 1,
  shuttingDownPolls: 1,
  transitionMs: 0,
  volumeModifyingPolls: 1,
  volumeOptimizingPolls: 1,
  volumeModificationRules: true,
  incorrectInstanceState: true,
  describeInstancesMaxResults: true,
  unknownInstanceTags: true,
  scheduledSecretDeletion: true,
  clientTokenIdempotency: true,
  forgetFailedClientTokens: true,
  // Large enough that no test runs into it unless it sets its own.
  ec2VcpuQuota: 1152,
  profileReplacement: true,
};

export interface RecordedAwsCall {
  /** 1-based order of arrival at the proxy. */
  seq: number;
  service: string;
  action: string;
  region: string;
  mutating: boolean;
  /** Request parameters: the form fields (query protocol) or the JSON body. */
  params: Record<string, unknown>;
  /** HTTP status of the answer; 0 while in flight and when the connection was dropped before moto. */
  status: number;
  /** AWS error code of a non-2xx answer. */
  errorCode?: string;
  /** The injected fault, if one hit this call. */
  fault?: FaultKind;
  /** The moto account the call was sent to. */
  account: string;
  /** Made by tenantform's SDK clients (user agent app/tenantform), not by the harness. */
  product: boolean;
  /** Epoch milliseconds when the request arrived. */
  startedAt: number;
  durationMs: number;
}

export type CallHook = (call: RecordedAwsCall) => void | Promise<void>;

export interface AwsFaults {
  /** Inject a fault on matching calls; see FaultSpec for count / every / after. */
  inject(spec: FaultSpec): FaultHandle;
  /** The live corrections; assign to switch one on or off. */
  readonly faithful: FaithfulOptions;
  ssm: {
    fail(rule: SsmFailureRule): RuleHandle;
    holdInProgress(rule: SsmInProgressRule): RuleHandle;
  };
  /** Removes every injected fault and SSM rule (faithful options are left as they are). */
  clear(): void;
}

export interface AwsProxy {
  url: string;
  faults: AwsFaults;
  calls: RecordedAwsCall[];
  /** `hook` runs for every call before it is forwarded (and before faults apply); returns an unsubscribe. */
  onCall(hook: CallHook): () => void;
  close(): Promise<void>;
}

export interface AwsProxyOptions {
  motoUrl: string;
  accountId: string;
  /** Loopback port to listen on; a free one when omitted. */
  port?: number;
  faithful?: Partial<FaithfulOptions>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const hopByHop = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'expect', 'keep-alive']);

function forward(motoUrl: string, accountId: string, aws: AwsRequest, body: Buffer): Promise<ProxyReply> {
  // moto reads the account from this header first (notes/moto.md); the caller chose it.
  const target = new URL(motoUrl);
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(aws.headers)) {
    if (value !== undefined && !hopByHop.has(name)) headers[name] = value;
  }
  headers['x-moto-account-id'] = accountId;
  headers['content-length'] = String(body.length);
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest({ host: target.hostname, port: target.port, method: aws.method, path: aws.path, headers, agent: false }, (incoming) => {
      readBody(incoming).then((replyBody) => {
        const replyHeaders: Record<string, string> = {};
        for (const [name, value] of Object.entries(incoming.headers)) {
          if (value !== undefined && !hopByHop.has(name)) replyHeaders[name] = Array.isArray(value) ? value.join(', ') : value;
        }
        resolve({ status: incoming.statusCode ?? 502, headers: replyHeaders, body: replyBody });
      }, reject);
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

function errorCodeOf(reply: ProxyReply): string | undefined {
  if (reply.status < 400) return undefined;
  const text = reply.body.toString('utf8');
  return /"__type"\s*:\s*"(?:[^"#]*#)?([^"]+)"/.exec(text)?.[1] ?? /<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? reply.headers['x-amzn-errortype'];
}

function jsonReply(reply: ProxyReply, rewrite: (body: Record<string, unknown>) => Record<string, unknown>): ProxyReply {
  const parsed = JSON.parse(reply.body.toString('utf8') || '{}') as Record<string, unknown>;
  return { ...reply, body: Buffer.from(JSON.stringify(rewrite(parsed))) };
}

function xmlReply(reply: ProxyReply, rewrite: (xml: string) => string): ProxyReply {
  return { ...reply, body: Buffer.from(rewrite(reply.body.toString('utf8'))) };
}

class ProxyCore {
  readonly rules = new FaultRules();
  readonly holds = new InstanceStateHolds();
  readonly volumes = new VolumeModificationHolds();
  readonly ssm = new SsmOutcomes();
  readonly idempotency = new RunInstancesIdempotency();
  readonly calls: RecordedAwsCall[] = [];
  readonly hooks = new Set<CallHook>();
  private readonly accountBackends = new Map<string, MotoBackends>();
  /** Access key id → account, for the keys AssumeRole handed out. */
  private readonly assumedKeys = new Map<string, string>();

  constructor(
    private readonly motoUrl: string,
    private readonly accountId: string,
    readonly faithful: FaithfulOptions,
  ) {}

  /** Direct moto clients in the account a call was sent to (for the corrections' lookups). */
  private backendsFor(account: string): MotoBackends {
    let b = this.accountBackends.get(account);
    if (!b) this.accountBackends.set(account, (b = motoBackends(this.motoUrl, account)));
    return b;
  }

  destroy(): void {
    for (const b of this.accountBackends.values()) b.destroy();
  }

  /** The account a request is for: an assumed-role key's, else the caller's header, else the emulator's own. */
  private accountOf(aws: AwsRequest): string {
    const key = /Credential=([^/]+)\//.exec(String(aws.headers['authorization'] ?? ''))?.[1];
    const assumed = key ? this.assumedKeys.get(key) : undefined;
    const header = aws.headers['x-moto-account-id'];
    return assumed ?? (typeof header === 'string' && /^\d{12}$/.test(header) ? header : this.accountId);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const aws = parseAwsRequest(req.method ?? 'POST', req.url ?? '/', req.headers, body);
    recordProductAction(aws);
    const account = this.accountOf(aws);
    const call: RecordedAwsCall = {
      seq: this.calls.length + 1,
      service: aws.service,
      action: aws.action,
      region: aws.region,
      mutating: isMutatingAction(aws.action),
      params: aws.protocol === 'json' ? aws.json : Object.fromEntries(aws.form.entries()),
      status: 0,
      account,
      product: isProductRequest(aws),
      startedAt: Date.now(),
      durationMs: 0,
    };
    this.calls.push(call);
    const settle = (status: number, reply?: ProxyReply) => {
      call.status = status;
      const code = reply && errorCodeOf(reply);
      if (code) call.errorCode = code;
      call.durationMs = Date.now() - call.startedAt;
    };
    for (const hook of [...this.hooks]) await hook(call);

    const fault = this.rules.match(aws, account);
    if (fault) call.fault = fault.kind;
    if (fault?.kind === 'dropConnection') {
      settle(0);
      req.socket.destroy();
      return;
    }
    let reply: ProxyReply;
    try {
      reply =
        fault?.kind === 'throttle' || fault?.kind === 'rateLimit'
          ? throttleReply(aws)
          : fault?.kind === 'serverError'
            ? serverErrorReply(aws, fault.status ?? 500)
            : fault?.kind === 'awsError'
              ? awsErrorReply(aws, fault.status ?? 403, fault.code ?? 'AccessDenied', fault.message ?? 'Access denied (injected by the test proxy).')
              : await this.serve(aws, account);
    } catch (err) {
      reply = awsErrorReply(aws, 500, 'ProxyFailure', `test proxy could not serve ${aws.service}:${aws.action}: ${err instanceof Error ? err.message : String(err)}`);
    }
    settle(reply.status, reply);
    if (fault?.kind === 'lostResponse') {
      req.socket.destroy();
      return;
    }
    res.on('error', () => undefined);
    res.writeHead(reply.status, { ...reply.headers, 'content-length': String(reply.body.length) });
    res.end(reply.body);
  }

  /** The call as AWS would answer it: corrections before and after moto. */
  private async serve(aws: AwsRequest, account: string): Promise<ProxyReply> {
    const f = this.faithful;
    const backends = this.backendsFor(account);
    const ec2 = () => backends.ec2(aws.region);
    const secrets = () => backends.secrets(aws.region);
    const op = `${aws.service}:${aws.action}`;
    let body = aws.body;
    let requestedStates: string[] | undefined;

    const refusal =
      op === 'ec2:DeleteSecurityGroup' && f.dependencyViolation
        ? await dependencyViolation(aws, ec2(), this.holds)
        : op === 'ec2:StartInstances' && f.incorrectInstanceState
          ? await startFromWrongState(aws, ec2(), this.holds)
          : op === 'ec2:ModifyInstanceAttribute' && f.incorrectInstanceState
            ? await resizeWhileNotStopped(aws, ec2(), this.holds)
            : op === 'ec2:DescribeInstances' && f.describeInstancesMaxResults
              ? maxResultsOutOfRange(aws)
              : op === 'ec2:CreateTags' && f.unknownInstanceTags
                ? await tagsOnUnknownInstance(aws, ec2())
                : op === 'ec2:ModifyVolume' && f.volumeModificationRules
                  ? await this.volumes.refusal(aws, ec2())
                  : (op === 'secretsmanager:PutSecretValue' || op === 'secretsmanager:UpdateSecret') && f.scheduledSecretDeletion
                    ? await writeToScheduledSecret(aws, secrets())
                    : undefined;
    if (refusal) return refusal;
    if (op === 'servicequotas:GetServiceQuota' && f.ec2VcpuQuota !== undefined) {
      const quota = ec2VcpuQuotaReply(aws, f.ec2VcpuQuota);
      if (quota) return quota;
    }

    if (op === 'ec2:DescribeInstances') {
      const form = clientTokenFilter(aws.form, this.idempotency) ?? aws.form;
      const widened = this.holds.widenStateFilter(form);
      if (widened) requestedStates = widened.requested;
      if (widened || form !== aws.form) body = Buffer.from((widened?.form ?? form).toString());
    }

    const callMoto = async (): Promise<ProxyReply> => {
      const reply = await forward(this.motoUrl, account, aws, body);
      if (op === 'sts:AssumeRole' && reply.status === 200) this.rememberAssumedKey(aws, reply);
      return this.afterMoto(aws, op, reply, requestedStates, backends);
    };
    if (op === 'ec2:RunInstances' && f.clientTokenIdempotency) return this.idempotency.run(aws, callMoto, !f.forgetFailedClientTokens);
    return callMoto();
  }

  /** moto's assumed-role keys map to the role's account; so do the proxy's (see the header comment). */
  private rememberAssumedKey(aws: AwsRequest, reply: ProxyReply): void {
    const roleAccount = /^arn:[^:]+:iam::(\d{12}):/.exec(aws.form.get('RoleArn') ?? '')?.[1];
    const key = /<AccessKeyId>([^<]+)<\/AccessKeyId>/.exec(reply.body.toString('utf8'))?.[1];
    if (roleAccount && key) this.assumedKeys.set(key, roleAccount);
  }

  private async afterMoto(aws: AwsRequest, op: string, reply: ProxyReply, requestedStates: string[] | undefined, backends: MotoBackends): Promise<ProxyReply> {
    const f = this.faithful;
    if (op === 'secretsmanager:CreateSecret' && f.scheduledSecretDeletion) {
      return createOverScheduledSecret(aws, reply, backends.secrets(aws.region));
    }
    if (reply.status !== 200) return reply;
    if (op === 'ec2:RunInstances') this.idempotency.recordLaunch(aws, reply.body.toString('utf8'));
    switch (op) {
      case 'ec2:RunInstances':
      case 'ec2:StartInstances':
      case 'ec2:StopInstances':
      case 'ec2:TerminateInstances':
        return xmlReply(reply, (xml) =>
          this.holds.afterStateChange(aws.action, xml, { pending: f.pendingPolls, stopping: f.stoppingPolls, shuttingDown: f.shuttingDownPolls, holdMs: f.transitionMs }),
        );
      case 'ec2:DescribeInstances':
        return xmlReply(reply, (xml) => this.holds.rewriteDescribeInstances(xml, requestedStates));
      case 'ec2:ModifyVolume':
        return xmlReply(reply, (xml) =>
          this.volumes.afterModify(aws, xml, { modifying: f.volumeModifyingPolls, optimizing: f.volumeOptimizingPolls, holdMs: f.transitionMs }),
        );
      case 'ec2:DescribeVolumesModifications':
        return xmlReply(reply, (xml) => this.volumes.rewriteDescribe(xml));
      case 'ec2:ReplaceIamInstanceProfileAssociation':
        return f.profileReplacement ? completeProfileReplacement(reply, backends.ec2(aws.region)) : reply;
      case 'ssm:SendCommand':
        return jsonReply(reply, (json) => {
          this.ssm.rememberSendCommand(aws.json, json);
          return json;
        });
      case 'ssm:GetCommandInvocation':
        return this.ssm.active ? jsonReply(reply, (json) => this.ssm.rewriteGetCommandInvocation(json)) : reply;
      case 'ssm:ListCommands':
        return this.ssm.active ? jsonReply(reply, (json) => this.ssm.rewriteListCommands(json)) : reply;
      default:
        return reply;
    }
  }
}

export async function startAwsProxy(opts: AwsProxyOptions): Promise<AwsProxy> {
  const faithful: FaithfulOptions = { ...defaultFaithfulOptions, ...opts.faithful };
  const core = new ProxyCore(opts.motoUrl, opts.accountId, faithful);
  const server = createServer((req, res) => {
    core.handle(req, res).catch(() => req.socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls: core.calls,
    faults: {
      inject: (spec) => core.rules.add(spec),
      faithful,
      ssm: {
        fail: (rule) => core.ssm.fail(rule),
        holdInProgress: (rule) => core.ssm.holdInProgress(rule),
      },
      clear() {
        core.rules.clear();
        core.ssm.clear();
      },
    },
    onCall(hook) {
      core.hooks.add(hook);
      return () => core.hooks.delete(hook);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      core.destroy();
    },
  };
}
