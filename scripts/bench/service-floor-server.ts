// A floor for the code request in `pnpm bench`: the gateway's own code-request service
// (requestChallenge, with the gateway's deps: its pool, relay, keys and limits) behind the bare
// server's Fastify route (the same per-IP limit and body schema), and nothing else of the
// gateway's HTTP layer (no security headers, CORS, metrics hooks, request logging, callers'
// keys, captcha, locale negotiation or presenters).
//   POST /floor   {channel, to}: a login code, as the gateway's POST /v1/otp/challenges makes it
// Between the bare route and this one lies what the service does for its guarantees (the
// per-recipient limit, the outbox and its relay, the webhook event, the sealed address and
// job); between this one and the gateway, its HTTP layer. Its environment is the gateway's.
import rateLimit from '@fastify/rate-limit';
import {
  closeGatewayDeps,
  createGatewayDeps,
  parseGatewayConfig,
  requestChallenge,
  requestContext,
} from '@otp/gateway';
import { createLogger, readEnvironment } from '@otp/runtime';
import Fastify from 'fastify';

const config = parseGatewayConfig(readEnvironment());
const deps = await createGatewayDeps(config, createLogger({ service: 'bench-floor', level: config.LOG_LEVEL }));

const app = Fastify();
await app.register(rateLimit, { global: false, redis: deps.redis, nameSpace: 'floor-rate-limit:', skipOnError: true });

app.post(
  '/floor',
  {
    onRequest: app.rateLimit({
      max: 100_000_000,
      timeWindow: 60_000,
      keyGenerator: (request) => `codes:${request.ip}`,
    }),
    schema: {
      body: {
        type: 'object',
        required: ['channel', 'to'],
        additionalProperties: false,
        properties: { channel: { type: 'string', enum: ['email', 'sms'] }, to: { type: 'string', maxLength: 254 } },
      },
    },
  },
  async (request, reply) => {
    const { channel, to } = request.body as { channel: 'email' | 'sms'; to: string };
    const requested = await requestChallenge(
      deps,
      { channel, to, purpose: 'login', locale: config.DEFAULT_LOCALE },
      requestContext(request, deps),
    );
    return reply.code(202).send({ challengeId: requested.id });
  },
);

app.get('/health/ready', async () => ({ status: 'ok' }));
await app.listen({ host: '127.0.0.1', port: config.PORT });
process.once('SIGTERM', async () => {
  await app.close();
  await closeGatewayDeps(deps);
  process.exit(0);
});
