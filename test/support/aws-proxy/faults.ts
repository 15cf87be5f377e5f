/**
 * Injected faults: which calls fail, and how. A rule matches on service, action and an optional
 * predicate; `after`, `every` and `count` then pick which of the matching calls it hits.
 */
import type { AwsRequest } from './request.js';

export type FaultKind =
  /** EC2 `RequestLimitExceeded` (HTTP 503, XML) / JSON `ThrottlingException` (HTTP 400). */
  | 'throttle'
  /** A 5xx with the service's internal-error code; moto is not called. */
  | 'serverError'
  /** The socket is destroyed before moto is called: the call did not take effect. */
  | 'dropConnection'
  /** moto is called, then the socket is destroyed: the call took effect, the caller never hears. */
  | 'lostResponse'
  /**
   * A server-side token bucket (`perSecond`, `burst`; starts full) over the matching calls, as AWS
   * enforces its limits: a call finding the bucket empty gets the `throttle` answer and takes no token.
   */
  | 'rateLimit'
  /** An AWS error answer of the spec's `code` and `status` (default 403 AccessDenied); moto is not called. */
  | 'awsError';

export interface FaultSpec {
  kind: FaultKind;
  /** Credential-scope service (ec2, secretsmanager, ssm, iam); any when omitted. */
  service?: string;
  /** Action name(s), e.g. 'RunInstances'; any when omitted. */
  action?: string | string[];
  /** Only calls sent to this moto account (12 digits); any when omitted. */
  account?: string;
  /** 'awsError': the error code, HTTP status and message. */
  code?: string;
  message?: string;
  /** Further narrows the matching calls, e.g. on a request parameter. */
  when?: (req: AwsRequest) => boolean;
  /** Let this many matching calls through before the rule starts hitting. Default 0. */
  after?: number;
  /** After `after`, hit only every Nth matching call (the Nth, 2Nth, …). Default 1: every one. */
  every?: number;
  /** Stop after this many hits. Default: unlimited. */
  count?: number;
  /** HTTP status for 'serverError'. Default 500. */
  status?: number;
  /**
   * 'rateLimit': refill per second and bucket size, one bucket per account and region (AWS limits
   * are per account and region). `after`, `every` and `count` do not apply.
   */
  perSecond?: number;
  burst?: number;
}

export interface FaultHandle {
  /** How many calls this rule has hit so far. */
  readonly hits: number;
  remove(): void;
}

interface FaultRule {
  spec: FaultSpec;
  seen: number;
  hits: number;
  /** 'rateLimit' only: per `<account>|<region>`, tokens left and when they were last refilled. */
  buckets: Map<string, { tokens: number; refilledAt: number }>;
}

export class FaultRules {
  private rules: FaultRule[] = [];

  add(spec: FaultSpec): FaultHandle {
    if (spec.every !== undefined && spec.every < 1) throw new Error(`fault 'every' must be >= 1, got ${spec.every}`);
    if (spec.kind === 'rateLimit' && !((spec.perSecond ?? 0) > 0 && (spec.burst ?? 0) >= 1)) {
      throw new Error(`a rateLimit fault needs perSecond > 0 and burst >= 1, got ${spec.perSecond} / ${spec.burst}`);
    }
    const rule: FaultRule = { spec, seen: 0, hits: 0, buckets: new Map() };
    this.rules.push(rule);
    return {
      get hits() {
        return rule.hits;
      },
      remove: () => {
        this.rules = this.rules.filter((r) => r !== rule);
      },
    };
  }

  clear(): void {
    this.rules = [];
  }

  /** The fault to apply to this call, if any; the first rule that fires wins. */
  match(req: AwsRequest, account = ''): FaultSpec | undefined {
    for (const rule of this.rules) {
      const { spec } = rule;
      if (spec.service !== undefined && spec.service !== req.service) continue;
      if (spec.account !== undefined && spec.account !== account) continue;
      if (spec.action !== undefined && !(Array.isArray(spec.action) ? spec.action.includes(req.action) : spec.action === req.action)) continue;
      if (spec.when && !spec.when(req)) continue;
      rule.seen++;
      if (spec.kind === 'rateLimit') {
        if (takeToken(rule, `${account}|${req.region}`)) continue;
        rule.hits++;
        return spec;
      }
      const position = rule.seen - (spec.after ?? 0);
      if (position <= 0) continue;
      if (position % (spec.every ?? 1) !== 0) continue;
      if (spec.count !== undefined && rule.hits >= spec.count) continue;
      rule.hits++;
      return spec;
    }
    return undefined;
  }
}

function takeToken(rule: FaultRule, key: string): boolean {
  const now = Date.now();
  let bucket = rule.buckets.get(key);
  if (!bucket) rule.buckets.set(key, (bucket = { tokens: rule.spec.burst!, refilledAt: now }));
  bucket.tokens = Math.min(rule.spec.burst!, bucket.tokens + ((now - bucket.refilledAt) / 1000) * rule.spec.perSecond!);
  bucket.refilledAt = now;
  if (bucket.tokens < 1) return false;
  bucket.tokens -= 1;
  return true;
}
