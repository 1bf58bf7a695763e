import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { findUserById } from '@otp/db';
import { PublicError } from '@otp/domain';
import { authenticate } from '../auth/authenticate.ts';
import { tokenSettings } from '../auth/tokens.service.ts';
import type { GatewayDeps } from '../deps.ts';
import { BEARER_SECURITY } from '../http/openapi.ts';
import { problemResponses } from '../http/schemas.ts';
import { presentMe } from '../users/user.presenter.ts';
import { MeView } from '../users/user.schemas.ts';

export const meRoutes: FastifyPluginAsyncTypebox<{ deps: GatewayDeps }> = async (app, { deps }) => {
  app.get(
    '/me',
    {
      schema: {
        tags: ['account'],
        summary: 'The signed-in user',
        security: BEARER_SECURITY,
        response: { 200: MeView, ...problemResponses(401) },
      },
      preHandler: authenticate(tokenSettings(deps)),
    },
    async (request) => {
      const user = await findUserById(deps.db, request.userId as string);
      // A valid token for an account that no longer exists is as good as no token.
      if (user === undefined) throw new PublicError('unauthorized', { detail: 'the account no longer exists' });
      return presentMe(user);
    },
  );
};
