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
  /**
   * Calls made with a server key (`request.apiKey`, the verification API): API_KEY_REQUESTS_PER_MINUTE
   * per key, in place of the per-IP limits, since one server speaks for many users.
   */
  serverKeyCalls: onRequestAsyncHookHandler;
  /**
   * The client network's count of code requests this minute, read without counting (so after
   * `codeRequests` it includes the request itself), and its limit. Unlike the limits, which let
   * requests through when Redis fails, this throws: the human check (captcha.ts) must know that
   * it does not know.
   */
  codeRequestsUsed(request: FastifyRequest): Promise<{ used: number; max: number }>;
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
  const counter = (group: string, max: number, keyOf = (request: FastifyRequest) => clientNetwork(request.ip)) => ({
    max,
    timeWindow: 60_000,
    keyGenerator: (request: FastifyRequest) => `${group}:${keyOf(request)}`,
  });
  const limiter = (counted: ReturnType<typeof counter>) =>
    app.rateLimit({
      ...counted,
      errorResponseBuilder: (_request, context) =>
        new PublicError('rate_limited', { retryAfterSeconds: Math.max(1, Math.ceil(context.ttl / 1000)) }),
    }) as unknown as onRequestAsyncHookHandler;

  // The same counter through the plugin's own reader, so the Redis key is the plugin's to spell.
  const codeRequests = counter('codes', deps.config.RATE_LIMIT_CODE_REQUESTS_PER_MINUTE);
  const readCodeRequests = app.createRateLimit({ ...codeRequests, skipOnError: false });

  return {
    codeRequests: limiter(codeRequests),
    verifications: limiter(counter('verify', deps.config.RATE_LIMIT_VERIFICATIONS_PER_MINUTE)),
    serverKeyCalls: limiter(
      counter('server-key', deps.config.API_KEY_REQUESTS_PER_MINUTE, (request) => String(request.apiKey)),
    ),
    async codeRequestsUsed(request) {
      const state = await readCodeRequests(request, { increment: false });
      // Allow-listed clients are never limited (no allow list is configured today).
      if (state.isAllowed) return { used: 0, max: codeRequests.max };
      return { used: state.max - state.remaining, max: state.max };
    },
  };
}
