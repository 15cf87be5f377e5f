/**
 * EC2 checks AWS makes and moto does not (notes/moto.md, "Gaps"): each takes the parsed request
 * and either returns the error AWS would give, or undefined to let the call through to moto.
 */
import { DescribeInstancesCommand, DescribeSecurityGroupsCommand, type EC2Client, type Filter } from '@aws-sdk/client-ec2';
import { awsErrorReply, type ProxyReply } from './errors.js';
import type { InstanceStateHolds } from './instance-states.js';
import { formFilters, formList, type AwsRequest } from './request.js';

interface InstanceState {
  instanceId: string;
  state: string;
}

async function instanceStates(ec2: EC2Client, query: { instanceIds: string[] } | { filters: Filter[] }): Promise<InstanceState[]> {
  const states: InstanceState[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ec2.send(
      new DescribeInstancesCommand('instanceIds' in query ? { InstanceIds: query.instanceIds } : { Filters: query.filters, MaxResults: 1000, NextToken: nextToken }),
    );
    for (const reservation of page.Reservations ?? []) {
      for (const instance of reservation.Instances ?? []) {
        states.push({ instanceId: instance.InstanceId ?? '', state: instance.State?.Name ?? '' });
      }
    }
    nextToken = page.NextToken;
  } while (nextToken);
  return states;
}

/** An unknown id makes moto fail the lookup; then moto's own answer to the real call is the right one. */
async function statesOrUndefined(ec2: EC2Client, instanceIds: string[]): Promise<InstanceState[] | undefined> {
  try {
    return await instanceStates(ec2, { instanceIds });
  } catch {
    return undefined;
  }
}

/**
 * AWS refuses to delete a security group that a non-terminated instance still uses. moto's
 * DescribeInstances supports the `instance.group-id` filter (not `network-interface.group-id`,
 * which is a 500 there). An instance held in `shutting-down` still counts, and each refusal
 * counts as one observation of it, so a caller that retries the delete eventually gets through.
 */
export async function dependencyViolation(req: AwsRequest, ec2: EC2Client, holds: InstanceStateHolds): Promise<ProxyReply | undefined> {
  let groupId = req.form.get('GroupId') ?? undefined;
  const groupName = req.form.get('GroupName');
  if (!groupId && groupName) {
    try {
      const found = await ec2.send(new DescribeSecurityGroupsCommand({ GroupNames: [groupName] }));
      groupId = found.SecurityGroups?.[0]?.GroupId;
    } catch {
      return undefined;
    }
  }
  if (!groupId) return undefined;
  const users = (await instanceStates(ec2, { filters: [{ Name: 'instance.group-id', Values: [groupId] }] })).filter(
    (i) => i.state !== 'terminated' || holds.heldState(i.instanceId, i.state) !== undefined,
  );
  if (users.length === 0) return undefined;
  for (const user of users) holds.consume(user.instanceId);
  return awsErrorReply(req, 400, 'DependencyViolation', `resource ${groupId} has a dependent object`);
}

/** StartInstances on a terminated (or still stopping / shutting-down) instance. */
export async function startFromWrongState(req: AwsRequest, ec2: EC2Client, holds: InstanceStateHolds): Promise<ProxyReply | undefined> {
  const states = await statesOrUndefined(ec2, formList(req.form, 'InstanceId'));
  const stuck = states?.find((i) => i.state === 'terminated' || (holds.heldState(i.instanceId, i.state) !== undefined && i.state !== 'running'));
  if (!stuck) return undefined;
  return awsErrorReply(req, 400, 'IncorrectInstanceState', `The instance '${stuck.instanceId}' is not in a state from which it can be started.`);
}

/** ModifyInstanceAttribute InstanceType needs a stopped instance. */
export async function resizeWhileNotStopped(req: AwsRequest, ec2: EC2Client, holds: InstanceStateHolds): Promise<ProxyReply | undefined> {
  const changesType = req.form.has('InstanceType.Value') || req.form.get('Attribute') === 'instanceType';
  const instanceId = req.form.get('InstanceId');
  if (!changesType || !instanceId) return undefined;
  const [instance] = (await statesOrUndefined(ec2, [instanceId])) ?? [];
  if (!instance) return undefined;
  if (instance.state === 'stopped' && holds.heldState(instance.instanceId, instance.state) === undefined) return undefined;
  return awsErrorReply(req, 400, 'IncorrectInstanceState', `The instance '${instanceId}' is not in the 'stopped' state.`);
}

/**
 * CreateTags on an instance id the account does not hold: AWS answers InvalidInstanceID.NotFound,
 * moto tags nothing and answers 200 (observed), which once hid a tag written with the wrong
 * account's clients.
 */
export async function tagsOnUnknownInstance(req: AwsRequest, ec2: EC2Client): Promise<ProxyReply | undefined> {
  const instanceIds = formList(req.form, 'ResourceId').filter((id) => id.startsWith('i-'));
  if (instanceIds.length === 0) return undefined;
  const known = new Set((await instanceStates(ec2, { filters: [{ Name: 'instance-id', Values: instanceIds }] })).map((i) => i.instanceId));
  const unknown = instanceIds.find((id) => !known.has(id));
  if (!unknown) return undefined;
  return awsErrorReply(req, 400, 'InvalidInstanceID.NotFound', `The instance ID '${unknown}' does not exist`);
}

/** DescribeInstances MaxResults must be 5–1000 (moto accepts anything). */
export function maxResultsOutOfRange(req: AwsRequest): ProxyReply | undefined {
  const raw = req.form.get('MaxResults');
  if (raw === null) return undefined;
  const value = Number(raw);
  if (Number.isInteger(value) && value >= 5 && value <= 1000) return undefined;
  return awsErrorReply(req, 400, 'InvalidParameterValue', `Value ( ${raw} ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.`);
}

interface TokenEntry {
  fingerprint: string;
  reply: Promise<ProxyReply | undefined>;
}

/**
 * RunInstances ClientToken idempotency, which moto lacks: the same token with the same
 * parameters answers the first successful response again; with other parameters it is
 * IdempotentParameterMismatch. A token whose call failed is forgotten (as on AWS), unless
 * `rememberFailed` says otherwise (a test of how the product copes with a token no instance holds).
 * It also knows which instances each token launched, for the DescribeInstances `client-token`
 * filter that moto answers with a 500.
 */
export class RunInstancesIdempotency {
  private tokens = new Map<string, TokenEntry>();
  private launched = new Map<string, string[]>();

  async run(req: AwsRequest, launch: () => Promise<ProxyReply>, rememberFailed = false): Promise<ProxyReply> {
    const token = req.form.get('ClientToken');
    if (!token) return launch();
    const fingerprint = [...req.form.entries()]
      .filter(([key]) => key !== 'ClientToken')
      .map(([key, value]) => `${key}=${value}`)
      .sort()
      .join('&');
    const known = this.tokens.get(token);
    if (known) {
      const earlier = await known.reply;
      if (known.fingerprint !== fingerprint && (earlier || rememberFailed)) {
        return awsErrorReply(
          req,
          400,
          'IdempotentParameterMismatch',
          'Arguments on this idempotent request are inconsistent with arguments used in previous request(s).',
        );
      }
      if (earlier) return { ...earlier, body: Buffer.from(earlier.body) };
    }
    const launched = launch();
    const entry: TokenEntry = {
      fingerprint,
      reply: launched.then(
        (r) => (r.status === 200 ? r : undefined),
        () => undefined,
      ),
    };
    this.tokens.set(token, entry);
    // AWS remembers the token of a launch that happened, not of a call that failed.
    void entry.reply.then((ok) => {
      if (!ok && !rememberFailed && this.tokens.get(token) === entry) this.tokens.delete(token);
    });
    return launched;
  }

  /** Called for every successful RunInstances (idempotency on or off): which instances a token launched. */
  recordLaunch(req: AwsRequest, responseXml: string): void {
    const token = req.form.get('ClientToken');
    if (!token || this.launched.has(token)) return;
    const ids = [...responseXml.matchAll(/<instanceId>([^<]+)<\/instanceId>/g)].map((m) => m[1]!);
    this.launched.set(token, [...new Set(ids)]);
  }

  /** Instance ids launched with any of these tokens. */
  holders(tokens: string[]): string[] {
    return tokens.flatMap((t) => this.launched.get(t) ?? []);
  }
}

/**
 * moto has no DescribeInstances `client-token` filter (a 500). The proxy knows the tokens, so it
 * swaps the filter for an `instance-id` filter on the instances those tokens launched (a token
 * that launched nothing matches no instance).
 */
export function clientTokenFilter(form: URLSearchParams, idempotency: RunInstancesIdempotency): URLSearchParams | undefined {
  const filter = formFilters(form).find((f) => f.name === 'client-token');
  if (!filter) return undefined;
  const out = new URLSearchParams([...form.entries()].filter(([key]) => !key.startsWith(`Filter.${filter.index}.`)));
  const ids = idempotency.holders(filter.values);
  out.set(`Filter.${filter.index}.Name`, 'instance-id');
  (ids.length > 0 ? ids : ['i-00000000000000000']).forEach((id, i) => out.set(`Filter.${filter.index}.Value.${i + 1}`, id));
  return out;
}
