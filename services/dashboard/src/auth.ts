import { createHash, timingSafeEqual } from 'node:crypto';
import { PublicError } from '@otp/domain';
import type { RedisClient } from '@otp/runtime';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { DashboardAuth } from './config.ts';

const REALM = 'OTP queue dashboard';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by requireOperator once a request signs in: who it is, as the admin API's audit names them. */
    operator: string | null;
  }
}

/**
 * The name a bearer-token sign-in acts under. The token is one shared secret with no person
 * behind it, so the audit trail can only say that the token was used.
 */
export const TOKEN_OPERATOR = 'dashboard-token';

// Both sides are hashed first so the comparison always runs over 32 bytes: timingSafeEqual needs
// equal lengths, and comparing lengths first would tell an attacker how long the secret is.
function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

function sameSecret(given: string, expected: Buffer): boolean {
  return timingSafeEqual(digest(given), expected);
}

/** `granted`: a configured method matched; `missing`: no credentials sent; `refused`: wrong ones. */
export type AuthOutcome = { outcome: 'granted'; method: 'basic' | 'bearer' } | { outcome: 'missing' | 'refused' };
export type AuthCheck = (request: FastifyRequest) => AuthOutcome;

/** Reads `Authorization: Basic ...` or `Bearer ...` and checks it, in constant time, against the configuration. */
export function createAuthCheck(auth: DashboardAuth): AuthCheck {
  const user = auth.basic === undefined ? undefined : digest(auth.basic.user);
  const password = auth.basic === undefined ? undefined : digest(auth.basic.password);
  const token = auth.token === undefined ? undefined : digest(auth.token);

  return (request) => {
    const header = request.headers.authorization;
    if (typeof header !== 'string' || header.trim() === '') return { outcome: 'missing' };
    const [scheme = '', ...rest] = header.trim().split(/\s+/);
    const credentials = rest.join(' ');
    if (scheme.toLowerCase() === 'basic' && user !== undefined && password !== undefined) {
      const decoded = Buffer.from(credentials, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return { outcome: 'refused' };
      // Both checks always run, so a right user name with a wrong password takes as long as neither.
      const userMatches = sameSecret(decoded.slice(0, colon), user);
      const passwordMatches = sameSecret(decoded.slice(colon + 1), password);
      return userMatches && passwordMatches ? { outcome: 'granted', method: 'basic' } : { outcome: 'refused' };
    }
    if (scheme.toLowerCase() === 'bearer' && token !== undefined) {
      return sameSecret(credentials, token) ? { outcome: 'granted', method: 'bearer' } : { outcome: 'refused' };
    }
    return { outcome: 'refused' };
  };
}

/** The WWW-Authenticate challenges a 401 carries: Basic makes a browser ask for the user name and password. */
export function authChallenges(auth: DashboardAuth): string[] {
  return [
    ...(auth.basic !== undefined ? [`Basic realm="${REALM}", charset="UTF-8"`] : []),
    ...(auth.token !== undefined ? [`Bearer realm="${REALM}"`] : []),
  ];
}

const unauthorized = new PublicError('unauthorized', {
  detail: 'Sign in with the dashboard user name and password (HTTP basic) or its bearer token.',
});

/**
 * Refused sign-ins counted per client address in Redis (so across replicas), in a fixed window
 * from the first failure: past `maxFailures`, the address gets 429 until the window ends, right
 * credentials or not, so a password cannot be guessed at the rate requests go. Requests without
 * credentials (a browser's first try, before it asks for them) do not count. Without Redis the
 * count is skipped: the board cannot work then anyway.
 */
export interface SignInThrottle {
  redis: RedisClient;
  /** Key prefix (the queue prefix: every dashboard of a deployment shares the count). */
  keyPrefix: string;
  maxFailures: number;
  windowSeconds: number;
}

const throttled = new PublicError('sign_in_throttled', {
  detail: 'Too many refused sign-ins from this address; try again after Retry-After seconds.',
});

/** Seconds left of this address's block, or 0 when it may try. */
async function blockedFor(throttle: SignInThrottle, key: string): Promise<number> {
  // Every request of a signed-in operator passes here: one read, the TTL only when blocked.
  if (Number((await throttle.redis.get(key)) ?? 0) < throttle.maxFailures) return 0;
  return Math.max(await throttle.redis.ttl(key), 1);
}

async function countFailure(throttle: SignInThrottle, key: string): Promise<void> {
  await throttle.redis.multi().incr(key).expire(key, throttle.windowSeconds, 'NX').exec();
}

/** An `onRequest` hook that answers 401 (problem+json, stable code) unless the request signs in. */
export function requireOperator(auth: DashboardAuth, throttle?: SignInThrottle) {
  const check = createAuthCheck(auth);
  const challenges = authChallenges(auth);
  return async function requireOperatorHook(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const key = `${throttle?.keyPrefix}:dashboard:sign-in-failures:${request.ip}`;
    const wait = throttle === undefined ? 0 : await blockedFor(throttle, key).catch(() => 0);
    if (wait > 0) {
      await reply
        .code(429)
        .header('retry-after', String(wait))
        .header('cache-control', 'no-store')
        .type('application/problem+json')
        .send(throttled.toProblem());
      return;
    }
    const result = check(request);
    if (result.outcome === 'granted') {
      // Basic sign-in succeeded only if the user name matched, so the configured name is theirs.
      request.operator = result.method === 'basic' ? (auth.basic?.user ?? null) : TOKEN_OPERATOR;
      return;
    }
    if (result.outcome === 'refused') {
      request.log.warn({ route: request.routeOptions.url }, 'dashboard sign-in refused');
      if (throttle !== undefined) {
        await countFailure(throttle, key).catch((error: Error) =>
          request.log.warn({ err: { message: error.message } }, 'could not count a refused sign-in'),
        );
      }
    }
    await reply
      .code(401)
      .header('www-authenticate', challenges)
      .header('cache-control', 'no-store')
      .type('application/problem+json')
      .send(unauthorized.toProblem());
  };
}
