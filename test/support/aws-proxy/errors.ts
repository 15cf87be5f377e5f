/** AWS error responses in each protocol's own wire format, so the SDK parses them like the real thing. */
import { randomUUID } from 'node:crypto';
import type { AwsRequest } from './request.js';

export interface ProxyReply {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function awsErrorReply(req: AwsRequest, status: number, code: string, message: string): ProxyReply {
  const requestId = randomUUID();
  if (req.protocol === 'json') {
    return {
      status,
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': code, 'x-amzn-requestid': requestId },
      body: Buffer.from(JSON.stringify({ __type: code, message })),
    };
  }
  const body =
    req.service === 'ec2'
      ? `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${xmlEscape(code)}</Code><Message>${xmlEscape(message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`
      : `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse><Error><Type>${status >= 500 ? 'Receiver' : 'Sender'}</Type><Code>${xmlEscape(code)}</Code><Message>${xmlEscape(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
  return { status, headers: { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': requestId }, body: Buffer.from(body) };
}

/** What each service answers when its rate limit is hit. */
export function throttleReply(req: AwsRequest): ProxyReply {
  if (req.service === 'ec2') return awsErrorReply(req, 503, 'RequestLimitExceeded', 'Request limit exceeded.');
  if (req.protocol === 'json') return awsErrorReply(req, 400, 'ThrottlingException', 'Rate exceeded');
  return awsErrorReply(req, 400, 'Throttling', 'Rate exceeded');
}

export function serverErrorReply(req: AwsRequest, status: number): ProxyReply {
  const code =
    req.service === 'ec2'
      ? status === 503
        ? 'Unavailable'
        : 'InternalError'
      : req.service === 'secretsmanager'
        ? 'InternalServiceError'
        : req.service === 'ssm'
          ? 'InternalServerError'
          : 'ServiceFailure';
  return awsErrorReply(req, status, code, 'An internal error has occurred (injected by the test proxy).');
}
