import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { countRemainingRecoveryCodes, findUserById, listEnabledFactors, setUserName, type User } from '@otp/db';
import { PublicError } from '@otp/domain';
import type { FastifyRequest } from 'fastify';
import Type from 'typebox';
import { presentRequested } from '../../codes/challenges/challenge.presenter.ts';
import { requestChallenge } from '../../codes/challenges/challenge.request.service.ts';
import { ChallengeCreated } from '../../codes/challenges/challenge.schemas.ts';
import { codeSignInLockedUntil } from '../../codes/challenges/recipient-limits.ts';
import { type GatewayDeps, now } from '../../deps.ts';
import { inTransaction, recordEvent } from '../../events/record-event.ts';
import { requestContext } from '../../events/request-context.ts';
import { accountRequestLocale } from '../../http/locale.ts';
import { BEARER_SECURITY } from '../../http/openapi.ts';
import type { RateLimitHooks } from '../../http/rate-limit.plugin.ts';
import { EmailInput, Locale, problemResponses } from '../../http/schemas.ts';
import { authenticate, requireRecentSignIn } from '../auth/authenticate.ts';
import { presentMe } from '../users/user.presenter.ts';
import { MeView, ProfileBody } from '../users/user.schemas.ts';

const PhoneBody = Type.Object(
  {
    phone: Type.String({
      minLength: 1,
      maxLength: 32,
      description: 'Phone number in international format (+ and country code)',
    }),
    locale: Type.Optional(Locale),
  },
  { additionalProperties: false },
);

const EmailBody = Type.Object({ email: EmailInput, locale: Type.Optional(Locale) }, { additionalProperties: false });

export const meRoutes: FastifyPluginAsyncTypebox<{ deps: GatewayDeps; limits: RateLimitHooks }> = async (
  app,
  { deps, limits },
) => {
  app.get(
    '/me',
    {
      schema: {
        tags: ['account'],
        summary: 'The signed-in user',
        security: BEARER_SECURITY,
        response: { 200: MeView, ...problemResponses(401) },
      },
      preHandler: authenticate(deps),
    },
    async (request) => presentAccount(await findUserById(deps.db, request.userId as string)),
  );

  // Not a credential: no recent sign-in and no notice, as a stolen token changing the name
  // neither locks the owner out nor hides anything from them (GET /v1/me shows it).
  app.patch(
    '/me',
    {
      schema: {
        tags: ['account'],
        summary: 'Set or remove the display name',
        security: BEARER_SECURITY,
        body: ProfileBody,
        response: { 200: MeView, ...problemResponses(400, 401, 413, 415) },
      },
      preHandler: authenticate(deps),
    },
    async (request) => {
      const userId = request.userId as string;
      const name = request.body.name?.trim() ?? null;
      const context = requestContext(request, deps);
      const user = await inTransaction(deps.db, async (trx) => {
        const updated = await setUserName(trx, userId, name);
        if (updated !== undefined) {
          await recordEvent(trx, context, 'user.name_changed', { userId, details: { cleared: name === null } });
        }
        return updated;
      });
      return presentAccount(user);
    },
  );

  /** The signed-in account as GET /v1/me shows it. */
  async function presentAccount(user: User | undefined): Promise<MeView> {
    // A valid token for an account that no longer exists is as good as no token.
    if (user === undefined) throw new PublicError('unauthorized', { detail: 'the account no longer exists' });
    return presentMe(user, {
      enabled: (await listEnabledFactors(deps.db, user.id)).map((factor) => factor.kind),
      recoveryCodesRemaining: await countRemainingRecoveryCodes(deps.db, user.id),
      codeSignInLockedUntil: await codeSignInLockedUntil(deps, user, now(deps)),
    });
  }

  /**
   * A code to an address the signed-in account wants (verify_phone by SMS, change_email by email),
   * bound to the account, in the language the request names, else the account's; and the event
   * that says it was asked for.
   */
  async function codeToNewAddress(
    request: FastifyRequest,
    channel: 'sms' | 'email',
    to: string,
    bodyLocale: string | undefined,
    event: 'phone.verification_requested' | 'email.change_requested',
  ) {
    const userId = request.userId as string;
    const context = requestContext(request, deps);
    const purpose = channel === 'sms' ? 'verify_phone' : 'change_email';
    const locale = await accountRequestLocale(
      deps,
      request,
      bodyLocale,
      async () => (await findUserById(deps.db, userId))?.locale,
    );
    const requested = await requestChallenge(deps, { channel, to, purpose, locale, userId }, context);
    await recordEvent(deps.db, context, event, { userId, details: { challengeId: requested.id } });
    return presentRequested(requested);
  }

  // Verifying the code (POST /v1/otp/challenges/:id/verify) sets the phone on this account, or
  // answers 409 phone_taken, without saying which account, when another one holds the number.
  app.post(
    '/me/phone',
    {
      schema: {
        tags: ['account'],
        summary: 'Add or change the phone number: sends a verify_phone code by SMS',
        security: BEARER_SECURITY,
        body: PhoneBody,
        response: { 202: ChallengeCreated, ...problemResponses(400, 401, 413, 415, 429) },
      },
      onRequest: limits.codeRequests,
      preHandler: [authenticate(deps), requireRecentSignIn(deps, 'phone.change')],
    },
    async (request, reply) => {
      const { phone, locale } = request.body;
      return reply
        .code(202)
        .send(await codeToNewAddress(request, 'sms', phone, locale, 'phone.verification_requested'));
    },
  );

  // A credential: whoever holds the account's address can sign in with it and reset its password,
  // so the move needs a recent sign-in and a code to the new address. Verifying the code (POST
  // /v1/otp/challenges/:id/verify) moves the account, or answers 409 email_taken. The code goes
  // out even when another account holds the address, so the answer here never says whether it
  // does: only the address's owner, who gets the code, learns it at the verify step.
  app.post(
    '/me/email',
    {
      schema: {
        tags: ['account'],
        summary: 'Change the email address: sends a change_email code to the new one',
        security: BEARER_SECURITY,
        body: EmailBody,
        response: { 202: ChallengeCreated, ...problemResponses(400, 401, 413, 415, 429) },
      },
      onRequest: limits.codeRequests,
      preHandler: [authenticate(deps), requireRecentSignIn(deps, 'email.change')],
    },
    async (request, reply) => {
      const { email, locale } = request.body;
      return reply.code(202).send(await codeToNewAddress(request, 'email', email, locale, 'email.change_requested'));
    },
  );
};
