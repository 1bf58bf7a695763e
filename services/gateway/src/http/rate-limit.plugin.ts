import rateLimit from '@fastify/rate-limit';
import { PublicError } from '@otp/domain';
import type { FastifyInstance, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { GatewayDeps } from '../deps.ts';
import { clientNetwork } from './client-network.ts';

export interface RateLimitHooks {
  /** Code requests and resends, together: RATE_LIMIT_CODE_REQUESTS_PER_MINUTE per client IP. */
  codeRequests: onRequestAsyncHookHandler;
  /** Verifications: RATE_LIMIT_VERIFICATIONS_PER_MINUTE per client IP. */
  verifications: onRequestAsyncHookHandler;
}

/**
 * Redis key prefix of the counters. The braces of the queue prefix's hash tag are dropped: each
 * counter is a single key, so spreading them over Redis Cluster slots is what we want.
 */
export function rateLimitNamespace(queuePrefix: string): string {
  return `${queuePrefix.replace(/[{}]/g, '')}:rate-limit:`;
}

/**
 * Per-client-IP limits in Redis, shared by every replica. The client IP is `request.ip`, which
 * Fastify takes from X-Forwarded-For only when TRUST_PROXY names the proxy (see app.ts).
 */
export async function registerRateLimits(app: FastifyInstance, deps: GatewayDeps): Promise<RateLimitHooks> {
  await app.register(rateLimit, {
    global: false,
    redis: deps.redis,
    nameSpace: rateLimitNamespace(deps.config.QUEUE_PREFIX),
    // When Redis is unreachable the limiter lets requests through rather than failing them, so
    // sign-in keeps working during a Redis outage. The per-recipient limit lives in Postgres and
    // still holds, which bounds how many messages any client can make us send.
    skipOnError: true,
  });

  // Limiters made with app.rateLimit() count by their key alone, not per route, so the two
  // routes of a group (request + resend) share one counter.
  const limiter = (group: string, max: number) =>
    app.rateLimit({
      max,
      timeWindow: 60_000,
      keyGenerator: (request: FastifyRequest) => `${group}:${clientNetwork(request.ip)}`,
      errorResponseBuilder: (_request, context) =>
        new PublicError('rate_limited', { retryAfterSeconds: Math.max(1, Math.ceil(context.ttl / 1000)) }),
    }) as unknown as onRequestAsyncHookHandler;

  return {
    codeRequests: limiter('codes', deps.config.RATE_LIMIT_CODE_REQUESTS_PER_MINUTE),
    verifications: limiter('verify', deps.config.RATE_LIMIT_VERIFICATIONS_PER_MINUTE),
  };
}
