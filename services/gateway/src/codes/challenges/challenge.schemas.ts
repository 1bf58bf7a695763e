import { PURPOSES } from '@otp/domain';
import Type, { type Static, type TSchema } from 'typebox';
import { ANONYMOUS_OR_SERVER_KEY } from '../../http/openapi.ts';
import { CaptchaToken, IdParams, Locale, problemResponses, Timestamp, Uuid } from '../../http/schemas.ts';

export const Channel = Type.Enum(['email', 'sms'], { description: 'How the code is delivered' });
/** What POST /v1/otp/challenges offers: never reset_password (POST /v1/auth/password/forgot only). */
export const Purpose = Type.Enum(['login', 'verify_email', 'verify_phone'] satisfies Array<(typeof PURPOSES)[number]>, {
  description:
    'login signs in (creating the account if allowed); verify_* confirm an address. Default: login, or with a ' +
    "server key the channel's verify_* (a server key cannot ask for login)",
});
/** A challenge's purpose as GET shows it: a password reset's challenge is one too. */
const AnyPurpose = Type.Enum([...PURPOSES], {
  description: 'As requested; reset_password for a challenge of POST /v1/auth/password/forgot',
});
export const ChallengeStatus = Type.Enum(['pending', 'verified', 'expired', 'locked', 'failed']);
export const DeliveryStatus = Type.Enum(['queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed']);
const MaskedRecipient = Type.String({ description: 'The recipient, masked: j***@example.com or +*******2671' });
/** A verification token, given only to the server key that started the challenge. */
export const VerificationToken = Type.String({
  description:
    "A JWT (typ verification+jwt, aud the server key's name, sub the challenge id; claims channel, to, verified_at) " +
    "signed with the access tokens' key, good for 10 minutes after the verification; only with the server key that " +
    'started the challenge (docs/verification-api.md)',
});

export const RequestChallengeBody = Type.Object(
  {
    channel: Channel,
    to: Type.String({
      minLength: 1,
      maxLength: 320,
      description: 'Email address (channel email) or phone number in international format (channel sms)',
    }),
    purpose: Type.Optional(Purpose),
    locale: Type.Optional(Locale),
    captchaToken: Type.Optional(CaptchaToken),
  },
  { additionalProperties: false },
);
export type RequestChallengeBody = Static<typeof RequestChallengeBody>;

export const ChallengeCreated = Type.Object(
  { challengeId: Uuid, channel: Channel, to: MaskedRecipient, expiresAt: Timestamp, resendAvailableAt: Timestamp },
  { description: 'Accepted: the code is on its way' },
);

/** The code must be exactly `length` digits; anything else is refused before any attempt counts. */
export function verifyBody(length: number) {
  return Type.Object(
    { code: Type.String({ pattern: `^[0-9]{${length}}$`, description: `The ${length}-digit code` }) },
    { additionalProperties: false },
  );
}

export const ResendAccepted = Type.Object(
  { resendAvailableAt: Timestamp, expiresAt: Timestamp },
  { description: 'Accepted: a new code is on its way' },
);

export const ChallengeView = Type.Object(
  {
    id: Uuid,
    channel: Channel,
    to: Type.String({
      description:
        'The recipient, masked (j***@example.com, +*******2671); in clear to the server key that started the challenge',
    }),
    purpose: AnyPurpose,
    locale: Type.String({
      description: 'The catalogue locale the messages of this challenge are asked in (resends keep it)',
    }),
    status: ChallengeStatus,
    attemptsRemaining: Type.Integer({ minimum: 0 }),
    expiresAt: Timestamp,
    delivery: Type.Object({
      status: DeliveryStatus,
      attempts: Type.Integer({ minimum: 0 }),
      lastError: Type.Optional(Type.String()),
      updatedAt: Timestamp,
    }),
    verificationToken: Type.Optional(VerificationToken),
  },
  { description: 'The challenge and its delivery' },
);
export type ChallengeView = Static<typeof ChallengeView>;

export const requestChallengeSchema = {
  tags: ['otp'],
  security: ANONYMOUS_OR_SERVER_KEY,
  summary: 'Send a code by email or SMS',
  description: 'Answers the same whether or not an account exists for the address.',
  body: RequestChallengeBody,
  response: { 202: ChallengeCreated, ...problemResponses(400, 401, 413, 415, 429) },
};

/** `answer`: what a verified code answers, from the side that applies its purpose. */
export function verifyChallengeSchema(codeLength: number, answer: TSchema) {
  return {
    tags: ['otp'],
    security: ANONYMOUS_OR_SERVER_KEY,
    summary: 'Verify a code',
    description: 'login: signs in ({user, tokens}); verify_email / verify_phone: {verified: true}.',
    params: IdParams,
    body: verifyBody(codeLength),
    response: {
      200: answer,
      ...problemResponses(400, 401, 403, 404, 409, 410, 413, 415, 429),
    },
  };
}

export const resendChallengeSchema = {
  tags: ['otp'],
  security: ANONYMOUS_OR_SERVER_KEY,
  summary: 'Send a new code for the challenge',
  description:
    "The previous send's code stays valid, older ones do not; the attempt budget is shared; expiry is unchanged. " +
    "Takes a message slot in the recipient's window, like a new challenge.",
  params: IdParams,
  response: { 202: ResendAccepted, ...problemResponses(400, 401, 404, 410, 429) },
};

export const getChallengeSchema = {
  tags: ['otp'],
  security: ANONYMOUS_OR_SERVER_KEY,
  summary: 'Status of a challenge and its delivery',
  params: IdParams,
  response: { 200: ChallengeView, ...problemResponses(400, 401, 404) },
};
