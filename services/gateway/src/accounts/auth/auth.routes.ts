import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { GatewayDeps } from '../../deps.ts';
import { requestContext } from '../../events/request-context.ts';
import { createHumanCheck } from '../../http/captcha.ts';
import type { RateLimitHooks } from '../../http/rate-limit.plugin.ts';
import { loginSchema, logoutSchema, mfaSchema, refreshSchema, registerSchema } from './auth.schemas.ts';
import { signInWithPassword } from './login.service.ts';
import { completeMfa } from './mfa.service.ts';
import { logout, refreshTokens } from './refresh.service.ts';
import { register } from './register.service.ts';
import { createSignInThrottle } from './sign-in-throttle.ts';

export interface AuthRoutesOptions {
  deps: GatewayDeps;
  limits: RateLimitHooks;
}

/** Registration, password sign-in, the MFA step, refresh-token rotation and logout. */
export const authRoutes: FastifyPluginAsyncTypebox<AuthRoutesOptions> = async (app, { deps, limits }) => {
  const throttle = createSignInThrottle(deps);
  const humanCheck = createHumanCheck(deps, limits);

  app.post('/auth/register', { schema: registerSchema, onRequest: limits.codeRequests }, async (request, reply) => {
    await humanCheck(request, { token: request.body.captchaToken, sends: 'email' });
    const registered = await register(deps, requestContext(request, deps), {
      email: request.body.email,
      password: request.body.password,
      name: request.body.name,
      locale: deps.config.DEFAULT_LOCALE,
    });
    return reply.code(202).send(registered);
  });

  app.post('/auth/login', { schema: loginSchema, onRequest: limits.verifications }, async (request) =>
    signInWithPassword(deps, throttle, requestContext(request, deps), request.body),
  );

  app.post('/auth/mfa', { schema: mfaSchema, onRequest: limits.verifications }, async (request) => {
    const { mfaToken, ...proof } = request.body;
    return completeMfa(deps, requestContext(request, deps), mfaToken, proof);
  });

  app.post('/auth/refresh', { schema: refreshSchema, onRequest: limits.verifications }, async (request) => ({
    tokens: await refreshTokens(deps, requestContext(request, deps), request.body.refreshToken),
  }));

  app.post('/auth/logout', { schema: logoutSchema, onRequest: limits.verifications }, async (request, reply) => {
    await logout(deps, requestContext(request, deps), request.body.refreshToken);
    return reply.code(204).send(null);
  });
};
