import { PublicError } from '@otp/domain';
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { GatewayDeps } from '../../deps.ts';
import { bearerKey, matchKey, parseKeyEntries } from '../../http/bearer-keys.ts';
import type { RateLimitHooks } from '../../http/rate-limit.plugin.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The server key (its name in API_KEYS) a challenge route was called with; null: anonymous. */
    apiKey: string | null;
  }
}

/** The onRequest hooks of the challenge routes: who calls (a server key or nobody), then its limit. */
export interface CallerHooks {
  /** Code requests and resends: per server key, else per client network. */
  codeRequests: onRequestAsyncHookHandler;
  /** Code checks: per server key, else per client network. */
  verifications: onRequestAsyncHookHandler;
  /** Reads (a challenge's status): the caller only, no limit. */
  reads: onRequestAsyncHookHandler;
}

const noLimit: onRequestAsyncHookHandler = async () => {};
// A signed-in user's access token (a JWT: base64url JSON header, payload, signature). Clients
// commonly attach it to every call, and these routes always ignored it; it is no server key, and
// no server sends one as its key, so it stays ignored rather than refused.
const ACCESS_TOKEN = /^Bearer eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/i;

/**
 * The verification API's keys (docs/verification-api.md). A challenge route called with
 * `Authorization: Bearer <key>` is a server's call when the key hashes to an entry of API_KEYS
 * (every entry compared in constant time) and counts against that key's limit. Any other
 * Authorization header answers 401 unauthorized: a wrong or revoked key never falls back to an
 * anonymous call, which would quietly give a server a browser's limits and answers. The refusal
 * still counts against the client network's limit, so a scanner is held like any other client.
 * The one header left alone is a user's access token (a JWT), as before there were server keys.
 */
export function callerHooks(deps: GatewayDeps, limits: RateLimitHooks): CallerHooks {
  const entries = parseKeyEntries(deps.config.API_KEYS);
  const identified =
    (anonymous: onRequestAsyncHookHandler, withKey: onRequestAsyncHookHandler): onRequestAsyncHookHandler =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      const header = request.headers.authorization;
      if (header === undefined || ACCESS_TOKEN.test(header)) return anonymous.call(request.server, request, reply);
      const key = bearerKey(header);
      const name = key === undefined ? undefined : matchKey(entries, key);
      if (name === undefined) {
        await anonymous.call(request.server, request, reply);
        throw new PublicError('unauthorized', {
          detail: 'the Authorization header must carry a server key of API_KEYS; leave it out to call anonymously',
        });
      }
      request.apiKey = name;
      return withKey.call(request.server, request, reply);
    };
  return {
    codeRequests: identified(limits.codeRequests, limits.serverKeyCalls),
    verifications: identified(limits.verifications, limits.serverKeyCalls),
    reads: identified(noLimit, noLimit),
  };
}
