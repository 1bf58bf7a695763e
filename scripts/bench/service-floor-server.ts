// Floors for `pnpm bench`: the gateway's own services for a code request and a code sign-in
// (requestChallenge, verifyChallenge with the login purpose, on the gateway's deps: its pool,
// relay, keys and limits) behind the bare server's Fastify routes (the same per-IP limits and
// schemas), and nothing else of the gateway's HTTP layer (no security headers, CORS, metrics
// hooks, request logging, callers' keys, captcha, locale negotiation, presenters or response
// schemas).
//   POST /floor             {channel, to}: a login code, as POST /v1/otp/challenges makes it
//   POST /floor/:id/verify  {code}: signs in, as POST /v1/otp/challenges/:id/verify does
// Between a bare route and its floor lies what the service does for its guarantees (for a
// request: the per-recipient limit, the outbox and its relay, the webhook event, the sealed
// address and job); between the floor and the gateway, the gateway's HTTP layer. Its
// environment is the gateway's.
import {
  challengePurposes,
  closeGatewayDeps,
  createGatewayDeps,
  parseGatewayConfig,
  requestChallenge,
  requestContext,
  verifyChallenge,
} from '@otp/gateway';
import { createLogger, readEnvironment } from '@otp/runtime';
import Fastify from 'fastify';
import { codeRequestSchema, perIpLimits, verifySchema } from './bare-routes.ts';

const config = parseGatewayConfig(readEnvironment());
const deps = await createGatewayDeps(config, createLogger({ service: 'bench-floor', level: config.LOG_LEVEL }));

const app = Fastify();
const perIp = await perIpLimits(app, deps.redis, 'floor-rate-limit:');

app.post('/floor', { onRequest: perIp('codes'), schema: codeRequestSchema }, async (request, reply) => {
  const { channel, to } = request.body as { channel: 'email' | 'sms'; to: string };
  const requested = await requestChallenge(
    deps,
    { channel, to, purpose: 'login', locale: config.DEFAULT_LOCALE },
    requestContext(request, deps),
  );
  return reply.code(202).send({ challengeId: requested.id });
});

const login = challengePurposes(deps);
app.post('/floor/:id/verify', { onRequest: perIp('verify'), schema: verifySchema }, async (request) => {
  const { id } = request.params as { id: string };
  const { code } = request.body as { code: string };
  return verifyChallenge(deps, login, id, code, requestContext(request, deps));
});

app.get('/health/ready', async () => ({ status: 'ok' }));
await app.listen({ host: '127.0.0.1', port: config.PORT });
process.once('SIGTERM', async () => {
  await app.close();
  await closeGatewayDeps(deps);
  process.exit(0);
});
