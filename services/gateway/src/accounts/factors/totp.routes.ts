import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { findFactor } from '@otp/db';
import { PublicError } from '@otp/domain';
import Type from 'typebox';
import type { GatewayDeps } from '../../deps.ts';
import { requestContext } from '../../events/request-context.ts';
import { BEARER_SECURITY } from '../../http/openapi.ts';
import type { RateLimitHooks } from '../../http/rate-limit.plugin.ts';
import { authenticate, requireRecentSignIn } from '../auth/authenticate.ts';
import { enrolFactor, qrCodeSvg } from './enrolment.service.ts';
import { checkFactorProof } from './factor.check.service.ts';
import { registerFactorLifecycle } from './factor-lifecycle.routes.ts';
import { BEARER_PROBLEMS, CodeBody, TotpEnrolment } from './factors.schemas.ts';

const meta = { tags: ['factors'], security: BEARER_SECURITY, response: BEARER_PROBLEMS };

/** An authenticator app (TOTP, RFC 6238): enrol, confirm, step-up check, remove. */
export const totpRoutes: FastifyPluginAsyncTypebox<{ deps: GatewayDeps; limits: RateLimitHooks }> = async (
  app,
  { deps, limits },
) => {
  const signedIn = authenticate(deps);

  app.post(
    '/me/totp',
    {
      schema: {
        ...meta,
        summary: 'Start enrolling an authenticator app',
        response: { 201: TotpEnrolment, ...BEARER_PROBLEMS },
      },
      preHandler: [signedIn, requireRecentSignIn(deps, 'factor.enrol')],
    },
    async (request, reply) => {
      const enrolment = await enrolFactor(deps, requestContext(request, deps), request.userId as string, 'totp');
      const qr = await qrCodeSvg(enrolment.otpauthUrl);
      return reply.code(201).send({ secret: enrolment.secret, otpauthUrl: enrolment.otpauthUrl, qrCodeSvg: qr });
    },
  );

  app.post(
    '/me/totp/validate',
    {
      schema: {
        ...meta,
        summary: 'Step-up check of a code of the enabled app',
        body: CodeBody,
        response: { 200: Type.Object({ valid: Type.Literal(true) }), ...BEARER_PROBLEMS },
      },
      onRequest: limits.verifications,
      preHandler: signedIn,
    },
    async (request) => {
      const userId = request.userId as string;
      const factor = await findFactor(deps.db, userId, 'totp');
      if (factor === undefined || factor.enabled_at === null) throw new PublicError('factor_not_found');
      const method = await checkFactorProof(deps, requestContext(request, deps), userId, request.body, ['totp']);
      if (method === undefined) throw new PublicError('invalid_factor_code');
      return { valid: true as const };
    },
  );

  registerFactorLifecycle(app, { kind: 'totp', noun: 'app', deps, limits, signedIn });
};
