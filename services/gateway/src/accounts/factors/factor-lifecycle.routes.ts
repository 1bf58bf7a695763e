import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { preHandlerAsyncHookHandler } from 'fastify';
import Type from 'typebox';
import type { GatewayDeps } from '../../deps.ts';
import { requestContext } from '../../events/request-context.ts';
import { BEARER_SECURITY } from '../../http/openapi.ts';
import type { RateLimitHooks } from '../../http/rate-limit.plugin.ts';
import { requireRecentSignIn } from '../auth/authenticate.ts';
import { confirmFactor, removeFactor } from './enrolment.service.ts';
import { BEARER_PROBLEMS, CodeBody, Enabled, ProofBody } from './factors.schemas.ts';

type App = Parameters<FastifyPluginAsyncTypebox>[0];

export interface FactorLifecycleOptions {
  kind: 'totp' | 'hotp';
  /** What the user calls it in summaries: "app", "token". */
  noun: string;
  deps: GatewayDeps;
  limits: RateLimitHooks;
  signedIn: preHandlerAsyncHookHandler;
}

/** The two routes every authenticator factor has alike: enable with a first code, and remove. */
export function registerFactorLifecycle(app: App, options: FactorLifecycleOptions): void {
  const { kind, noun, deps, limits, signedIn } = options;
  const meta = { tags: ['factors'], security: BEARER_SECURITY };

  app.post(
    `/me/${kind}/verify`,
    {
      schema: {
        ...meta,
        summary: `Enable the ${noun} with its first code`,
        body: CodeBody,
        response: { 200: Enabled, ...BEARER_PROBLEMS },
      },
      onRequest: limits.verifications,
      preHandler: [signedIn, requireRecentSignIn(deps, 'factor.enable')],
    },
    async (request) => {
      const userId = request.userId as string;
      const confirmed = await confirmFactor(deps, requestContext(request, deps), userId, kind, request.body.code);
      return { enabled: true as const, ...confirmed };
    },
  );

  app.delete(
    `/me/${kind}`,
    {
      schema: {
        ...meta,
        summary: `Remove the ${noun} (a code or a recovery code)`,
        body: ProofBody,
        response: { 204: Type.Null(), ...BEARER_PROBLEMS },
      },
      onRequest: limits.verifications,
      preHandler: [signedIn, requireRecentSignIn(deps, 'factor.remove')],
    },
    async (request, reply) => {
      await removeFactor(deps, requestContext(request, deps), request.userId as string, kind, request.body);
      return reply.code(204).send(null);
    },
  );
}
