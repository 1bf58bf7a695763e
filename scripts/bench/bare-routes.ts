// What the bench's bare routes and their floors share (bare-server.ts, service-floor-server.ts):
// the per-IP limit (@fastify/rate-limit on Redis, its ceiling out of the way: it still runs) and
// the request schemas, so that a floor differs from its bare route only in the work behind it.
import rateLimit, { type RateLimitPluginOptions } from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';

/** Registers the limit on `redis`; the result makes a route's hook counting per group and address. */
export async function perIpLimits(app: FastifyInstance, redis: RateLimitPluginOptions['redis'], nameSpace: string) {
  await app.register(rateLimit, { global: false, redis, nameSpace, skipOnError: true });
  return (group: string) =>
    app.rateLimit({ max: 100_000_000, timeWindow: 60_000, keyGenerator: (request) => `${group}:${request.ip}` });
}

/** A code request: `{channel, to}`. */
export const codeRequestSchema = {
  body: {
    type: 'object',
    required: ['channel', 'to'],
    additionalProperties: false,
    properties: { channel: { type: 'string', enum: ['email', 'sms'] }, to: { type: 'string', maxLength: 254 } },
  },
};

/** A code sign-in: `/:id/verify` with `{code}`. */
export const verifySchema = {
  params: { type: 'object', required: ['id'], properties: { id: { type: 'string', format: 'uuid' } } },
  body: {
    type: 'object',
    required: ['code'],
    additionalProperties: false,
    properties: { code: { type: 'string', pattern: '^[0-9]{6}$' } },
  },
};
