import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { GatewayDeps } from '../../deps.ts';
import { requestContext } from '../../events/request-context.ts';
import { createHumanCheck } from '../../http/captcha.ts';
import { requestLocale } from '../../http/locale.ts';
import type { RateLimitHooks } from '../../http/rate-limit.plugin.ts';
import { logoutAll } from '../me/sessions.service.ts';
import {
  loginSchema,
  logoutAllSchema,
  logoutSchema,
  mfaSchema,
  refreshSchema,
  registerSchema,
} from './auth.schemas.ts';
import { authenticate } from './authenticate.ts';
import { signInWithPassword } from './login.service.ts';
import { completeMfa } from './mfa.service.ts';
import { logout, refreshTokens } from './refresh.service.ts';
import { register } from './register.service.ts';
import { createSignInThrottle } from './sign-in-throttle.ts';

export interface AuthRoutesOptions {
  deps: GatewayDeps;
  limits: RateLimitHooks;
}

/** Registration, password sign-in, the MFA step, refresh-token rotation and logout (here or everywhere). */
export const authRoutes: FastifyPluginAsyncTypebox<AuthRoutesOptions> = async (app, { deps, limits }) => {
  const throttle = createSignInThrottle(deps);
  const humanCheck = createHumanCheck(deps, limits);

  app.post('/auth/register', { schema: registerSchema, onRequest: limits.codeRequests }, async (request, reply) => {
    await humanCheck(request, { token: request.body.captchaToken, sends: 'email' });
    const registered = await register(deps, requestContext(request, deps), {
      email: request.body.email,
      password: request.body.password,
      name: request.body.name,
      locale: requestLocale(deps, request, request.body.locale),
    });
    return reply.code(202).send(registered);
  });

  app.post('/auth/login', { schema: loginSchema, onRequest: limits.verifications }, async (request) =>
    signInWithPassword(deps, throttle, requestContext(request, deps), {
      email: request.body.email,
      password: request.body.password,
      locale: requestLocale(deps, request, request.body.locale),
    }),
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

  // No recent sign-in needed: a user who fears a stolen token must be able to do this at once,
  // and a thief who does it ends their own session with the owner's.
  app.post(
    '/auth/logout-all',
    { schema: logoutAllSchema, onRequest: limits.verifications, preHandler: authenticate(deps) },
    async (request, reply) => {
      await logoutAll(deps, requestContext(request, deps), request.userId as string);
      return reply.code(204).send(null);
    },
  );
};
