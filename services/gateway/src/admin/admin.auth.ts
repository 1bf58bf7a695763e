import { PublicError } from '@otp/domain';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { GatewayDeps } from '../deps.ts';
import { recordEvent } from '../events/record-event.ts';
import { requestContext } from '../events/request-context.ts';
import { bearerKey, type KeyEntry, matchKey, parseKeyEntries } from '../http/bearer-keys.ts';
import { clientNetwork } from '../http/client-network.ts';
import { rateLimitNamespace } from '../http/rate-limit.plugin.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the admin API's key check: who is calling. */
    admin: AdminCaller | null;
  }
}

/** Who made an admin call, as every event of it records. */
export interface AdminCaller {
  /** The name of the API key's entry in ADMIN_API_KEYS. */
  operator: string;
  /** The person the dashboard says is signed in (X-Operator-Name); null when not sent. */
  actor: string | null;
}

// Shown in audit queries and the dashboard: one line, no control or bidirectional-override
// characters (as a display name, accounts/users/user.schemas.ts).
const ACTOR = /^[^\p{Cc}\u2028\u2029\u202A-\u202E\u2066-\u2069]{1,100}$/u;

type Refusal = 'missing' | 'malformed' | 'unknown';

/**
 * The onRequest hook of every admin route: `Authorization: Bearer <key>` must hash to an entry of
 * ADMIN_API_KEYS (all compared in constant time), else 401 unauthorized. With no entries every
 * call is refused. Each refusal is an `admin.unauthorized` event (the network, never the key) and
 * counts against the client network; past ADMIN_AUTH_FAILURES_PER_MINUTE the network is answered
 * 429 before any key is looked at, so a leaked-but-removed key or a scanner cannot hammer the
 * audit table. Guessing is hopeless anyway (32 random bytes); the limit is about noise.
 */
export function adminAuthentication(deps: GatewayDeps, entries: readonly KeyEntry[]) {
  const limit = deps.config.ADMIN_AUTH_FAILURES_PER_MINUTE;
  const prefix = `${rateLimitNamespace(deps.config.QUEUE_PREFIX)}admin-auth:`;

  async function refusalsThisMinute(network: string): Promise<{ count: number; ttl: number }> {
    try {
      const [count, ttl] = await Promise.all([deps.redis.get(prefix + network), deps.redis.pttl(prefix + network)]);
      return { count: Number(count ?? 0), ttl };
    } catch {
      // Redis away: the keys still protect the API; only the noise limit is off meanwhile.
      return { count: 0, ttl: 0 };
    }
  }

  async function countRefusal(network: string): Promise<void> {
    try {
      const count = await deps.redis.incr(prefix + network);
      if (count === 1) await deps.redis.pexpire(prefix + network, 60_000);
    } catch {
      // As above.
    }
  }

  async function refuse(request: FastifyRequest, network: string, reason: Refusal): Promise<never> {
    await countRefusal(network);
    await recordEvent(deps.db, requestContext(request, deps), 'admin.unauthorized', { details: { reason, network } });
    throw new PublicError('unauthorized', { detail: 'a valid admin API key is required (Authorization: Bearer)' });
  }

  return async function requireAdminKey(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const network = clientNetwork(request.ip);
    const used = await refusalsThisMinute(network);
    if (used.count >= limit) {
      throw new PublicError('rate_limited', { retryAfterSeconds: Math.max(1, Math.ceil(used.ttl / 1000)) });
    }
    const header = request.headers.authorization;
    if (header === undefined || header === '') return refuse(request, network, 'missing');
    const key = bearerKey(header);
    if (key === undefined) return refuse(request, network, 'malformed');
    const operator = matchKey(entries, key);
    if (operator === undefined) return refuse(request, network, 'unknown');
    request.admin = { operator, actor: actorOf(request) };
  };
}

/** X-Operator-Name, trimmed; a header that is not one short printable line is a 400. */
function actorOf(request: FastifyRequest): string | null {
  const header = request.headers['x-operator-name'];
  if (header === undefined) return null;
  const value = (Array.isArray(header) ? header.join(',') : header).trim();
  if (!ACTOR.test(value)) {
    throw new PublicError('validation_failed', {
      detail: 'headers.x-operator-name must be 1 to 100 characters on one line',
    });
  }
  return value;
}

/** The configured keys, parsed (the config check has already refused a malformed value). */
export function adminKeyEntries(deps: Pick<GatewayDeps, 'config'>): KeyEntry[] {
  return parseKeyEntries(deps.config.ADMIN_API_KEYS);
}
