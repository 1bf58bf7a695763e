import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { pingDb } from '@otp/db';
import { pingRedis } from '@otp/runtime';
import Type from 'typebox';
import type { GatewayDeps } from '../deps.ts';
import { problemResponses } from '../http/schemas.ts';

const Check = Type.Enum(['up', 'down']);
const Readiness = Type.Object({
  // `draining`: the replica was told to stop and still serves, but wants no new traffic.
  status: Type.Enum(['ok', 'unavailable', 'draining']),
  checks: Type.Object({ postgres: Check, redis: Check }),
});

export const healthRoutes: FastifyPluginAsyncTypebox<{ deps: GatewayDeps }> = async (app, { deps }) => {
  app.get(
    '/health/live',
    {
      schema: {
        tags: ['health'],
        summary: 'The process is up',
        response: { 200: Type.Object({ status: Type.Literal('ok') }), ...problemResponses() },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/health/ready',
    {
      schema: {
        tags: ['health'],
        summary: 'Postgres and Redis answer and the replica is not stopping (503 otherwise)',
        response: { 200: Readiness, 503: Readiness },
      },
    },
    async (_request, reply) => {
      const [postgres, redis] = await Promise.all([pingDb(deps.db), pingRedis(deps.redis)]);
      // A draining replica is unready at once, whatever its dependencies say: balancers that
      // probe this route stop sending it new requests while it finishes the ones it has.
      const draining = deps.drain?.draining === true;
      const ready = postgres && redis && !draining;
      reply.code(ready ? 200 : 503);
      return {
        status: draining ? ('draining' as const) : ready ? ('ok' as const) : ('unavailable' as const),
        checks: {
          postgres: postgres ? ('up' as const) : ('down' as const),
          redis: redis ? ('up' as const) : ('down' as const),
        },
      };
    },
  );
};
