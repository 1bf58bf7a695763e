import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { findChallenge, type OtpChallenge } from '@otp/db';
import { type Channel, PublicError, type Purpose } from '@otp/domain';
import type { VerificationTokenSigner } from '../../accounts/auth/verification-token.ts';
import { type GatewayDeps, now } from '../../deps.ts';
import { requestContext } from '../../events/request-context.ts';
import { createHumanCheck } from '../../http/captcha.ts';
import { requestLocale } from '../../http/locale.ts';
import type { RateLimitHooks } from '../../http/rate-limit.plugin.ts';
import { countSmsCaptchaRefusal, smsCountersPastHalfFor } from '../sms/sms-guard.ts';
import {
  presentChallenge,
  presentRequested,
  presentResent,
  recipientOf,
  verificationTokenOf,
} from './challenge.presenter.ts';
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
import { callerHooks } from './server-keys.ts';

export interface ChallengeRoutesOptions {
  deps: GatewayDeps;
  limits: RateLimitHooks;
  /** What a verified code does (the accounts side implements it). */
  purposes: ChallengePurposes;
  /** Signs the verification tokens of the verification API (the accounts side holds the key). */
  verificationTokens: VerificationTokenSigner;
}

/** A server key asks to verify an address, never to sign in: the purpose follows the channel unless named. */
function serverPurpose(channel: Channel, purpose: Purpose | undefined): Purpose {
  if (purpose === 'login') {
    throw new PublicError('validation_failed', {
      detail: 'body.purpose login is not for server keys: ask for verify_email or verify_phone',
    });
  }
  return purpose ?? (channel === 'email' ? 'verify_email' : 'verify_phone');
}

/** The email and SMS code API: request, verify, resend, status (`/v1/otp/challenges`). */
export const challengeRoutes: FastifyPluginAsyncTypebox<ChallengeRoutesOptions> = async (
  app,
  { deps, limits, purposes, verificationTokens },
) => {
  const humanCheck = createHumanCheck(deps, limits);
  const callers = callerHooks(deps, limits);

  /**
   * The challenge a server key may see: its own. Any other (another key's, a browser's, none)
   * answers 404 as if it did not exist, so a key learns nothing about challenges it did not start.
   */
  async function serversChallenge(id: string, apiKey: string): Promise<OtpChallenge> {
    const row = await findChallenge(deps.db, id);
    if (row === undefined || row.api_key_name !== apiKey) throw new PublicError('challenge_not_found');
    return row;
  }

  app.post(
    '/otp/challenges',
    { schema: requestChallengeSchema, onRequest: callers.codeRequests },
    async (request, reply) => {
      const { channel, to } = request.body;
      const { apiKey } = request;
      // A server with its key asks for users it has already admitted: no captcha to solve, and the
      // limits that bound what it can send (per recipient, SMS budgets and breakers) all hold.
      if (apiKey === null) {
        await humanCheck(request, {
          token: request.body.captchaToken,
          sends: channel,
          ...(channel === 'sms' ? { smsPressure: () => smsCountersPastHalfFor(deps, to, now(deps)) } : {}),
        }).catch((error: unknown) => {
          if (channel === 'sms') countSmsCaptchaRefusal(deps, to, error);
          throw error;
        });
      }
      const requested = await requestChallenge(
        deps,
        {
          channel,
          to,
          purpose: apiKey === null ? (request.body.purpose ?? 'login') : serverPurpose(channel, request.body.purpose),
          locale: requestLocale(deps, request, request.body.locale),
          ...(apiKey === null ? {} : { apiKey }),
        },
        requestContext(request, deps),
      );
      return reply.code(202).send(presentRequested(requested));
    },
  );

  app.post(
    '/otp/challenges/:id/verify',
    {
      schema: verifyChallengeSchema(deps.config.OTP_CODE_LENGTH, purposes.answer),
      onRequest: callers.verifications,
    },
    async (request) => {
      const { apiKey } = request;
      const { id } = request.params;
      // The user's browser may submit the code of a server's challenge (anonymously, per-IP
      // limits); with a key, only that key's own challenges, and the answer carries its token.
      if (apiKey !== null) await serversChallenge(id, apiKey);
      const answer = await verifyChallenge(deps, purposes, id, request.body.code, requestContext(request, deps));
      if (apiKey === null) return answer;
      const row = await serversChallenge(id, apiKey);
      const token = await verificationTokenOf(verificationTokens, row, recipientOf(deps, row), now(deps));
      return { ...(answer as object), ...(token === undefined ? {} : { verificationToken: token }) };
    },
  );

  app.post(
    '/otp/challenges/:id/resend',
    { schema: resendChallengeSchema, onRequest: callers.codeRequests },
    async (request, reply) => {
      if (request.apiKey !== null) await serversChallenge(request.params.id, request.apiKey);
      const resent = await resendChallenge(deps, request.params.id, requestContext(request, deps));
      return reply.code(202).send(presentResent(resent));
    },
  );

  app.get('/otp/challenges/:id', { schema: getChallengeSchema, onRequest: callers.reads }, async (request) => {
    const { apiKey } = request;
    const at = now(deps);
    if (apiKey === null) {
      const row = await findChallenge(deps.db, request.params.id);
      if (row === undefined) throw new PublicError('challenge_not_found');
      return presentChallenge(row, at);
    }
    // The server that started it asked for this address: it gets it in clear, and once the code
    // is verified, a token that says so.
    const row = await serversChallenge(request.params.id, apiKey);
    const to = recipientOf(deps, row);
    const token = await verificationTokenOf(verificationTokens, row, to, at);
    return { ...presentChallenge(row, at), to, ...(token === undefined ? {} : { verificationToken: token }) };
  });
};
