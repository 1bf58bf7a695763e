import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { findChallenge } from '@otp/db';
import { PublicError } from '@otp/domain';
import { type GatewayDeps, now } from '../../deps.ts';
import { requestContext } from '../../events/request-context.ts';
import { createHumanCheck } from '../../http/captcha.ts';
import { requestLocale } from '../../http/locale.ts';
import type { RateLimitHooks } from '../../http/rate-limit.plugin.ts';
import { countSmsCaptchaRefusal, smsCountersPastHalfFor } from '../sms/sms-guard.ts';
import { presentChallenge, presentRequested, presentResent } from './challenge.presenter.ts';
import type { ChallengePurposes } from './challenge.purpose.port.ts';
import { requestChallenge } from './challenge.request.service.ts';
import { resendChallenge } from './challenge.resend.service.ts';
import {
  getChallengeSchema,
  requestChallengeSchema,
  resendChallengeSchema,
  verifyChallengeSchema,
} from './challenge.schemas.ts';
import { verifyChallenge } from './challenge.verify.service.ts';

export interface ChallengeRoutesOptions {
  deps: GatewayDeps;
  limits: RateLimitHooks;
  /** What a verified code does (the accounts side implements it). */
  purposes: ChallengePurposes;
}

/** The email and SMS code API: request, verify, resend, status (`/v1/otp/challenges`). */
export const challengeRoutes: FastifyPluginAsyncTypebox<ChallengeRoutesOptions> = async (
  app,
  { deps, limits, purposes },
) => {
  const humanCheck = createHumanCheck(deps, limits);

  app.post(
    '/otp/challenges',
    { schema: requestChallengeSchema, onRequest: limits.codeRequests },
    async (request, reply) => {
      const { channel, to } = request.body;
      await humanCheck(request, {
        token: request.body.captchaToken,
        sends: channel,
        ...(channel === 'sms' ? { smsPressure: () => smsCountersPastHalfFor(deps, to, now(deps)) } : {}),
      }).catch((error: unknown) => {
        if (channel === 'sms') countSmsCaptchaRefusal(deps, to, error);
        throw error;
      });
      const requested = await requestChallenge(
        deps,
        {
          channel: request.body.channel,
          to: request.body.to,
          purpose: request.body.purpose ?? 'login',
          locale: requestLocale(deps, request, request.body.locale),
        },
        requestContext(request, deps),
      );
      return reply.code(202).send(presentRequested(requested));
    },
  );

  app.post(
    '/otp/challenges/:id/verify',
    { schema: verifyChallengeSchema(deps.config.OTP_CODE_LENGTH, purposes.answer), onRequest: limits.verifications },
    async (request) =>
      verifyChallenge(deps, purposes, request.params.id, request.body.code, requestContext(request, deps)),
  );

  app.post(
    '/otp/challenges/:id/resend',
    { schema: resendChallengeSchema, onRequest: limits.codeRequests },
    async (request, reply) => {
      const resent = await resendChallenge(deps, request.params.id, requestContext(request, deps));
      return reply.code(202).send(presentResent(resent));
    },
  );

  app.get('/otp/challenges/:id', { schema: getChallengeSchema }, async (request) => {
    const row = await findChallenge(deps.db, request.params.id);
    if (row === undefined) throw new PublicError('challenge_not_found');
    return presentChallenge(row, now(deps));
  });
};
