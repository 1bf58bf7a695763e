import type { IncomingMessage, ServerResponse } from 'node:http';
import cors from '@fastify/cors';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { instrumentHttp } from '@otp/runtime';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import helmet from 'helmet';
import { authRoutes } from './accounts/auth/auth.routes.ts';
import { challengePurposes } from './accounts/auth/challenge-purposes.ts';
import { jwksRoutes } from './accounts/auth/jwks.routes.ts';
import { passwordRoutes } from './accounts/auth/password.routes.ts';
import { tokenSettings } from './accounts/auth/tokens.service.ts';
import { verificationTokenSigner } from './accounts/auth/verification-token.ts';
import { hotpRoutes } from './accounts/factors/hotp.routes.ts';
import { recoveryCodeRoutes } from './accounts/factors/recovery-codes.routes.ts';
import { totpRoutes } from './accounts/factors/totp.routes.ts';
import { accountDeletionRoutes } from './accounts/lifecycle/account-deletion.routes.ts';
import { meRoutes } from './accounts/me/me.routes.ts';
import { sessionsRoutes } from './accounts/me/sessions.routes.ts';
import { challengeRoutes } from './codes/challenges/challenge.routes.ts';
import { twilioStatusRoutes } from './codes/webhooks/twilio-status.routes.ts';
import { corsOrigins } from './config.ts';
import type { GatewayDeps } from './deps.ts';
import { registerDrain } from './http/drain.ts';
import { registerErrorHandling } from './http/errors.ts';
import { gatewayFastifyOptions } from './http/fastify-options.ts';
import { registerOpenApi } from './http/openapi.ts';
import { registerRateLimits } from './http/rate-limit.plugin.ts';
import { PUBLIC_OPERATION_IDS, PUBLIC_SCHEMA_NAMES } from './openapi.names.ts';
import { healthRoutes } from './ops/health.routes.ts';

/** The gateway's HTTP app, with every plugin and route registered explicitly; not listening. */
export async function buildApp(deps: GatewayDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const app = Fastify(
    gatewayFastifyOptions(config, deps.log as FastifyBaseLogger),
  ).withTypeProvider<TypeBoxTypeProvider>();

  // JSON only: any other body (Fastify also parses text/plain by default) is 415.
  app.removeContentTypeParser('text/plain');
  app.decorateRequest('userId', null);
  app.decorateRequest('auth', null);
  app.decorateRequest('apiKey', null);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  if (deps.drain !== undefined) registerDrain(app, deps.drain);
  registerErrorHandling(app);
  // Security headers on every answer; browsers may call the API only from the configured origins.
  // helmet's headers are computed once, here: every directive of its policy is fixed, so every
  // answer carries the same ones. Set with Fastify's reply headers rather than by helmet's
  // middleware on each request (one setHeader a header, which also made Node write Fastify's own
  // headers one by one): together 2% of a code request's CPU when @fastify/helmet rebuilt its
  // policy on every request, then 7 kB of its allocations.
  const securityHeaders = fixedSecurityHeaders();
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(securityHeaders);
    done();
  });
  await app.register(cors, {
    origin: corsOrigins(config.CORS_ORIGINS),
    methods: ['GET', 'POST', 'DELETE'],
    allowedHeaders: ['authorization', 'content-type'],
    exposedHeaders: ['retry-after', 'x-request-id'],
    maxAge: 600,
  });
  await registerOpenApi(app, {
    operationIds: PUBLIC_OPERATION_IDS,
    schemas: PUBLIC_SCHEMA_NAMES,
    publicBaseUrl: config.PUBLIC_BASE_URL,
  });
  // Every answer is timed by route pattern; /metrics is served on the ops port (ops/ops.app.ts).
  instrumentHttp(app, deps.metrics.registry);
  const limits = await registerRateLimits(app, deps);

  await app.register(healthRoutes, { deps });
  await app.register(jwksRoutes, {
    verifying: deps.keys.verifying,
    issuer: config.JWT_ISSUER,
    publicBaseUrl: config.PUBLIC_BASE_URL,
    includeContactClaims: config.JWT_INCLUDE_CONTACT_CLAIMS,
  });
  await app.register(authRoutes, { prefix: '/v1', deps, limits });
  await app.register(challengeRoutes, {
    prefix: '/v1',
    deps,
    limits,
    purposes: challengePurposes(deps),
    verificationTokens: verificationTokenSigner(tokenSettings(deps)),
  });
  await app.register(meRoutes, { prefix: '/v1', deps, limits });
  await app.register(sessionsRoutes, { prefix: '/v1', deps, limits });
  await app.register(passwordRoutes, { prefix: '/v1', deps, limits });
  await app.register(totpRoutes, { prefix: '/v1', deps, limits });
  await app.register(hotpRoutes, { prefix: '/v1', deps, limits });
  await app.register(recoveryCodeRoutes, { prefix: '/v1', deps, limits });
  await app.register(accountDeletionRoutes, { prefix: '/v1', deps, limits });
  await app.register(twilioStatusRoutes, { prefix: '/v1', deps });
  await app.ready();
  return app;
}

/** The headers helmet's middleware sets on a response with its default policy, read off once. */
function fixedSecurityHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: string) => {
      headers[name.toLowerCase()] = value;
    },
    removeHeader: () => {},
  };
  helmet()({} as IncomingMessage, response as unknown as ServerResponse, (error?: unknown) => {
    if (error !== undefined && error !== null) throw error;
  });
  return headers;
}
