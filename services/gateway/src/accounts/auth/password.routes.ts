import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { GatewayDeps } from '../../deps.ts';
import { requestContext } from '../../events/request-context.ts';
import { createHumanCheck } from '../../http/captcha.ts';
import { requestLocale } from '../../http/locale.ts';
import type { RateLimitHooks } from '../../http/rate-limit.plugin.ts';
import { authenticate, requireRecentSignIn } from './authenticate.ts';
import { changePasswordSchema, forgotPasswordSchema, resetPasswordSchema } from './password.schemas.ts';
import { changePassword } from './password-change.service.ts';
import { requestPasswordReset, resetPassword } from './password-reset.service.ts';
import { createSignInThrottle } from './sign-in-throttle.ts';

export interface PasswordRoutesOptions {
  deps: GatewayDeps;
  limits: RateLimitHooks;
}

/** Changing the password while signed in, and resetting it with a code sent to the verified address. */
export const passwordRoutes: FastifyPluginAsyncTypebox<PasswordRoutesOptions> = async (app, { deps, limits }) => {
  const throttle = createSignInThrottle(deps);
  const humanCheck = createHumanCheck(deps, limits);

  app.post(
    '/auth/password/forgot',
    { schema: forgotPasswordSchema, onRequest: limits.codeRequests },
    async (request, reply) => {
      await humanCheck(request, { token: request.body.captchaToken, sends: 'email' });
      const requested = await requestPasswordReset(deps, requestContext(request, deps), {
        email: request.body.email,
        // The request's language only, never the account's: the answer and the challenge (whose
        // locale GET shows) must be the same whether or not the address has an account.
        locale: requestLocale(deps, request, request.body.locale),
      });
      return reply.code(202).send(requested);
    },
  );

  app.post(
    '/auth/password/reset',
    { schema: resetPasswordSchema(deps.config.OTP_CODE_LENGTH), onRequest: limits.verifications },
    async (request, reply) => {
      await resetPassword(deps, requestContext(request, deps), request.body);
      return reply.code(204).send(null);
    },
  );

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
