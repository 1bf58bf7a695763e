import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { GatewayDeps } from '../../deps.ts';
import { requestContext } from '../../events/request-context.ts';
import type { RateLimitHooks } from '../../http/rate-limit.plugin.ts';
import { authenticate, requireRecentSignIn } from './authenticate.ts';
import { changePasswordSchema } from './password.schemas.ts';
import { changePassword } from './password-change.service.ts';
import { createSignInThrottle } from './sign-in-throttle.ts';

export interface PasswordRoutesOptions {
  deps: GatewayDeps;
  limits: RateLimitHooks;
}

/** Changing the password while signed in. */
export const passwordRoutes: FastifyPluginAsyncTypebox<PasswordRoutesOptions> = async (app, { deps, limits }) => {
  const throttle = createSignInThrottle(deps);

  app.post(
    '/me/password',
    {
      schema: changePasswordSchema,
      onRequest: limits.verifications,
      preHandler: [authenticate(deps), requireRecentSignIn(deps, 'password.change')],
    },
    async (request, reply) => {
      await changePassword(deps, throttle, requestContext(request, deps), {
        userId: request.userId as string,
        sessionId: request.auth?.sessionId ?? null,
        currentPassword: request.body.currentPassword,
        newPassword: request.body.newPassword,
      });
      return reply.code(204).send(null);
    },
  );
};
