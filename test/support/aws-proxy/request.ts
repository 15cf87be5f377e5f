/**
 * What an AWS SDK request is, read off the wire: the service from the SigV4 credential scope,
 * the action from the form body (query protocol: EC2, IAM, STS) or the X-Amz-Target header
 * (JSON protocol: Secrets Manager, SSM).
 */
import type { IncomingHttpHeaders } from 'node:http';

export type AwsProtocol = 'query' | 'json';

export interface AwsRequest {
  /** Credential-scope service name: ec2, secretsmanager, ssm, iam, sts, … */
  service: string;
  region: string;
  action: string;
  protocol: AwsProtocol;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Query protocol: the form fields (empty for JSON). */
  form: URLSearchParams;
  /** JSON protocol: the parsed body (empty for query). */
  json: Record<string, unknown>;
}

const scopePattern = /Credential=[^/]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/;

export function parseAwsRequest(method: string, path: string, headers: IncomingHttpHeaders, body: Buffer): AwsRequest {
  const scope = scopePattern.exec(String(headers['authorization'] ?? ''));
  const region = scope?.[1] ?? 'us-east-1';
  const service = scope?.[2] ?? 'unknown';
  const target = headers['x-amz-target'];
  if (typeof target === 'string') {
    let json: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(body.toString('utf8') || '{}');
      if (parsed && typeof parsed === 'object') json = parsed as Record<string, unknown>;
    } catch {
      // Not JSON: leave it to moto to reject.
    }
    return { service, region, action: target.slice(target.lastIndexOf('.') + 1), protocol: 'json', method, path, headers, body, form: new URLSearchParams(), json };
  }
  const form = new URLSearchParams(body.toString('utf8'));
  const action = form.get('Action') ?? new URL(path, 'http://x').searchParams.get('Action') ?? 'unknown';
  return { service, region, action, protocol: 'query', method, path, headers, body, form, json: {} };
}

/** Everything that is not Describe*, List* or Get* changes something. */
export function isMutatingAction(action: string): boolean {
  return !/^(Describe|List|Get)/.test(action);
}

/** A top-level request parameter as a string, whichever the protocol. */
export function requestParam(req: AwsRequest, name: string): string | undefined {
  if (req.protocol === 'query') return req.form.get(name) ?? undefined;
  const value = req.json[name];
  return value === undefined || value === null ? undefined : typeof value === 'string' ? value : JSON.stringify(value);
}

/** Query-protocol list members `Prefix.1`, `Prefix.2`, … in order. */
export function formList(form: URLSearchParams, prefix: string): string[] {
  const values: string[] = [];
  for (let i = 1; form.has(`${prefix}.${i}`); i++) values.push(form.get(`${prefix}.${i}`)!);
  return values;
}

export interface QueryFilter {
  index: number;
  name: string;
  values: string[];
}

/** EC2 `Filter.N.Name` / `Filter.N.Value.M`. */
export function formFilters(form: URLSearchParams): QueryFilter[] {
  const filters: QueryFilter[] = [];
  for (let i = 1; form.has(`Filter.${i}.Name`); i++) {
    filters.push({ index: i, name: form.get(`Filter.${i}.Name`)!, values: formList(form, `Filter.${i}.Value`) });
  }
  return filters;
}
