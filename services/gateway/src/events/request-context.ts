import { activeTraceparent } from '@otp/runtime';
import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import { type GatewayDeps, now } from '../deps.ts';
import type { GatewayMetrics } from '../ops/gateway.metrics.ts';
import { createNoticeSender, type NoticeSender } from './notice-sender.ts';

/** Who asked (client address, user agent, request id) and where the events of the request go. */
export interface RequestContext {
  ip: string;
  userAgent: string | null;
  requestId: string;
  /**
   * The active span (W3C trace context) when the gateway traces: the outbox row carries it to the
   * relay, which adds the job in it (see @otp/runtime's trace-context.ts).
   */
  traceparent?: string | undefined;
  /** The request's logger: its lines carry the request id. */
  log: FastifyBaseLogger;
  metrics: Pick<GatewayMetrics, 'codeEvent'>;
  /** Sends the security notice of an event that has one (`notice` in EVENT_TYPES). */
  notices: NoticeSender;
  /** The gateway's clock (pinned in tests): when the request's events happened. Now when absent. */
  now?: () => Date;
}

export function requestContext(
  request: FastifyRequest,
  deps: Pick<GatewayDeps, 'metrics' | 'keys' | 'catalogue' | 'relay' | 'clock'>,
): RequestContext {
  const agent = request.headers['user-agent'];
  return {
    ip: request.ip,
    // Bounded: the header is client-chosen and lands in a table.
    userAgent: typeof agent === 'string' ? agent.slice(0, 512) : null,
    requestId: request.id,
    traceparent: activeTraceparent(),
    log: request.log,
    metrics: deps.metrics,
    notices: createNoticeSender(deps),
    now: () => now(deps),
  };
}
