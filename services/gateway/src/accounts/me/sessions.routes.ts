import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { GatewayDeps } from '../../deps.ts';
import { requestContext } from '../../events/request-context.ts';
import { BEARER_SECURITY } from '../../http/openapi.ts';
import type { RateLimitHooks } from '../../http/rate-limit.plugin.ts';
import { IdParams, problemResponses } from '../../http/schemas.ts';
import { authenticate, requireRecentSignIn } from '../auth/authenticate.ts';
import { SessionList } from './sessions.schemas.ts';
import { endSession, listSessions } from './sessions.service.ts';

/** The signed-in user's sessions: list them, end one. (Ending all is POST /v1/auth/logout-all.) */
export const sessionsRoutes: FastifyPluginAsyncTypebox<{ deps: GatewayDeps; limits: RateLimitHooks }> = async (
  app,
  { deps, limits },
) => {
  const signedIn = authenticate(deps);
  const recentSignIn = requireRecentSignIn(deps, 'session.end_other');

  app.get(
    '/me/sessions',
    {
      schema: {
        tags: ['account'],
        summary: 'The sessions (sign-ins) of the account that can still be used',
        security: BEARER_SECURITY,
        response: { 200: SessionList, ...problemResponses(401) },
      },
      preHandler: signedIn,
    },
    async (request) => ({
      sessions: await listSessions(deps, request.userId as string, request.auth?.sessionId ?? null),
    }),
  );

  app.delete(
    '/me/sessions/:id',
    {
      schema: {
        tags: ['account'],
        summary: 'End a session: its refresh token and access tokens stop working',
        description:
          "Ending another session needs a recent sign-in (401 reauthentication_required); ending the caller's own does not.",
        security: BEARER_SECURITY,
        params: IdParams,
        response: { 204: Type.Null(), ...problemResponses(400, 401, 404) },
      },
      onRequest: limits.verifications,
      preHandler: signedIn,
    },
    async (request, reply) => {
      const current = request.params.id === request.auth?.sessionId;
      // Ending one's own session is a sign-out: protective, never refused. Ending another is
      // what a thief holding a stolen access token would do to lock the owner out (or to end
      // the owner's session before it ends theirs), so it needs a sign-in within
      // REAUTH_MAX_AGE_SECONDS, checked before the id is looked up so the answer says nothing
      // about it. Sign-out everywhere stays open: it ends the thief's own session too.
      if (!current) await recentSignIn(request);
      await endSession(deps, requestContext(request, deps), request.userId as string, request.params.id, current);
      return reply.code(204).send(null);
    },
  );
};
