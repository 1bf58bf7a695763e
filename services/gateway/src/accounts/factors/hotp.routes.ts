import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { PublicError } from '@otp/domain';
import Type from 'typebox';
import type { GatewayDeps } from '../../deps.ts';
import { requestContext } from '../../events/request-context.ts';
import { BEARER_SECURITY } from '../../http/openapi.ts';
import type { RateLimitHooks } from '../../http/rate-limit.plugin.ts';
import { authenticate, requireRecentSignIn } from '../auth/authenticate.ts';
import { decodeGivenSecret, enrolFactor } from './enrolment.service.ts';
import { registerFactorLifecycle } from './factor-lifecycle.routes.ts';
import { BEARER_PROBLEMS, FactorCode, HotpBody, HotpEnrolment } from './factors.schemas.ts';
import { resyncHotp } from './hotp.resync.service.ts';

const meta = { tags: ['factors'], security: BEARER_SECURITY, response: BEARER_PROBLEMS };
const MIN_SECRET_BYTES = 16;

/** A hardware token (HOTP, RFC 4226): enrol, confirm, resynchronise, remove. */
export const hotpRoutes: FastifyPluginAsyncTypebox<{ deps: GatewayDeps; limits: RateLimitHooks }> = async (
  app,
  { deps, limits },
) => {
  const signedIn = authenticate(deps);

  app.post(
    '/me/hotp',
    {
      schema: {
        ...meta,
        summary: 'Start enrolling a hardware token',
        body: Type.Optional(HotpBody),
        response: { 201: HotpEnrolment, ...BEARER_PROBLEMS },
      },
      preHandler: [signedIn, requireRecentSignIn(deps, 'factor.enrol')],
    },
    async (request, reply) => {
      let secret: Uint8Array | undefined;
      if (request.body?.secret !== undefined) {
        secret = decodeGivenSecret(request.body.secret);
        if (secret === undefined || secret.length < MIN_SECRET_BYTES || secret.length > 64) {
          throw new PublicError('validation_failed', { detail: 'secret must be base32 of 16 to 64 bytes' });
        }
      }
      const enrolment = await enrolFactor(
        deps,
        requestContext(request, deps),
        request.userId as string,
        'hotp',
        secret,
      );
      return reply.code(201).send({ ...enrolment, counter: enrolment.counter ?? 0 });
    },
  );

  app.post(
    '/me/hotp/resync',
    {
      schema: {
        ...meta,
        summary: 'Resynchronise a token that ran past the look-ahead window: two consecutive codes',
        body: Type.Object({ code: FactorCode, nextCode: FactorCode }, { additionalProperties: false }),
        response: { 200: Type.Object({ counter: Type.Integer({ minimum: 0 }) }), ...BEARER_PROBLEMS },
      },
      onRequest: limits.verifications,
      preHandler: signedIn,
    },
    async (request) => {
      const { code, nextCode } = request.body;
      return {
        counter: await resyncHotp(deps, requestContext(request, deps), request.userId as string, code, nextCode),
      };
    },
  );

  registerFactorLifecycle(app, { kind: 'hotp', noun: 'token', deps, limits, signedIn });
};
