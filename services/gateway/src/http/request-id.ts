import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

// An incoming id is kept only when it is short and plain, so a client cannot inject text into
// log lines or the response header through it.
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** Fastify's genReqId: the caller's X-Request-Id when safe, else a fresh UUID. */
export function requestIdFor(request: IncomingMessage): string {
  const incoming = request.headers['x-request-id'];
  return typeof incoming === 'string' && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}
