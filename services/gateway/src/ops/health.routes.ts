import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { pingDb } from '@otp/db';
import { pingRedis } from '@otp/runtime';
import Type from 'typebox';
import type { GatewayDeps } from '../deps.ts';
import { problemResponses } from '../http/schemas.ts';

const Check = Type.Enum(['up', 'down']);
const Readiness = Type.Object({
  // `degraded`: Postgres answers, Redis does not; the replica still takes traffic (200).
  // `draining`: the replica was told to stop and still serves, but wants no new traffic.
  status: Type.Enum(['ok', 'degraded', 'unavailable', 'draining']),
  checks: Type.Object({ postgres: Check, redis: Check }),
});

/** Whether each dependency answers a ping now. */
export async function dependencyChecks(deps: Pick<GatewayDeps, 'db' | 'redis'>) {
  const [postgres, redis] = await Promise.all([pingDb(deps.db), pingRedis(deps.redis)]);
  return { postgres, redis };
}

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
        summary: 'Postgres answers and the replica is not stopping (503 otherwise); Redis down is 200 degraded',
        description:
          'Redis down does not make a replica unready: every replica shares the one Redis, so taking them all ' +
          'out of the load balancer would refuse what they can still do (codes are written to the Postgres ' +
          'outbox and relayed once Redis is back; sign-in, refresh and verification need only Postgres).',
        response: { 200: Readiness, 503: Readiness },
      },
    },
    async (_request, reply) => {
      const { postgres, redis } = await dependencyChecks(deps);
      // A draining replica is unready at once, whatever its dependencies say: balancers that
      // probe this route stop sending it new requests while it finishes the ones it has.
      const draining = deps.drain?.draining === true;
      const ready = postgres && !draining;
      reply.code(ready ? 200 : 503);
      return {
        status: draining
          ? ('draining' as const)
          : !ready
            ? ('unavailable' as const)
            : redis
              ? ('ok' as const)
              : ('degraded' as const),
        checks: {
          postgres: postgres ? ('up' as const) : ('down' as const),
          redis: redis ? ('up' as const) : ('down' as const),
        },
      };
    },
  );
};
