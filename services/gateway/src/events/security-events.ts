import { type Database, insertSecurityEvent, type Kysely } from '@otp/db';
import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import { traceparentFor } from '../http/tracing.ts';

/** What the audit trail records. Add a type here before writing it anywhere. */
export type SecurityEventType =
  | 'user.registered'
  | 'sign_in.succeeded'
  | 'sign_in.failed'
  | 'sign_in.throttled'
  | 'mfa.required'
  | 'mfa.failed'
  | 'code.verified'
  | 'code.failed'
  | 'token.reuse_detected'
  | 'session.logged_out'
  | 'factor.changed'
  | 'factor.failed'
  | 'factor.locked'
  | 'recovery_code.used'
  | 'recovery_codes.regenerated'
  | 'phone.verification_requested';

const WARNINGS = new Set<SecurityEventType>([
  'sign_in.failed',
  'sign_in.throttled',
  'mfa.failed',
  'factor.failed',
  'factor.locked',
  'code.failed',
  'token.reuse_detected',
]);

/** Who asked: the request's client address, user agent, id and logger. */
export interface RequestContext {
  ip: string;
  userAgent: string | null;
  requestId: string;
  /** The request's span (W3C trace context) when the gateway traces. */
  traceparent?: string | undefined;
  log: FastifyBaseLogger;
}

export function requestContext(request: FastifyRequest): RequestContext {
  const agent = request.headers['user-agent'];
  return {
    ip: request.ip,
    // Bounded: the header is client-chosen and lands in a table.
    userAgent: typeof agent === 'string' ? agent.slice(0, 512) : null,
    requestId: request.id,
    traceparent: traceparentFor(request),
    log: request.log,
  };
}

export interface SecurityEventFields {
  userId?: string | null;
  /** Ids, reasons, counters, methods: never a code, password, token or full address. */
  details?: Record<string, unknown>;
}

/** Writes one event to security_events and logs it (the log line carries the request id). */
export async function recordSecurityEvent(
  db: Kysely<Database>,
  context: RequestContext,
  type: SecurityEventType,
  fields: SecurityEventFields = {},
): Promise<void> {
  const userId = fields.userId ?? null;
  const details = fields.details ?? {};
  await insertSecurityEvent(db, {
    type,
    userId,
    ip: context.ip,
    userAgent: context.userAgent,
    requestId: context.requestId,
    details,
  });
  context.log[WARNINGS.has(type) ? 'warn' : 'info']({ event: type, userId, ...details }, type);
}
