import Type from 'typebox';
import { BEARER_SECURITY } from '../../http/openapi.ts';
import { CaptchaToken, EmailInput, Locale, problemResponses, Uuid } from '../../http/schemas.ts';
import { DisplayName, Tokens, TokensAndUser } from '../users/user.schemas.ts';

export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 128;

export const Password = (minLength: number) =>
  Type.String({
    minLength,
    maxLength: PASSWORD_MAX_LENGTH,
    description: `The password, ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters`,
  });

const OpaqueToken = (description: string) =>
  Type.String({ minLength: 16, maxLength: 128, pattern: '^[A-Za-z0-9_-]+$', description });

export const MfaRequired = Type.Object(
  {
    outcome: Type.Literal('mfa_required', { description: 'Which answer this is: the MFA step is needed' }),
    mfaRequired: Type.Literal(true),
    mfaToken: OpaqueToken('Single use, short-lived; redeem at POST /v1/auth/mfa with a second factor'),
    methods: Type.Array(Type.Enum(['totp', 'hotp', 'recovery_code'])),
  },
  { description: 'The password (or code) was right; the account needs its second factor' },
);

export const registerSchema = {
  tags: ['auth'],
  summary: 'Register with email and password',
  description:
    'Answers alike for every address. A new or still unverified account gets a verify_email code (registering ' +
    'again while unverified replaces the password); an address whose account is verified gets an email saying ' +
    'so, and no code verifies that challenge. Password sign-in works once the address is verified. A new or ' +
    "unverified account takes the message's locale as its language (security notices use it). When password " +
    'hashing is at capacity: 503 service_unavailable with Retry-After.',
  body: Type.Object(
    {
      email: EmailInput,
      password: Password(PASSWORD_MIN_LENGTH),
      name: Type.Optional(DisplayName),
      locale: Type.Optional(Locale),
      captchaToken: Type.Optional(CaptchaToken),
    },
    { additionalProperties: false },
  ),
  response: {
    202: Type.Object({ challengeId: Uuid }, { description: 'Accepted: a message is on its way to the address' }),
    ...problemResponses(400, 413, 415, 429),
  },
};

export const loginSchema = {
  tags: ['auth'],
  summary: 'Sign in with email and password',
  description:
    'Unknown email and wrong password answer alike: 401 invalid_credentials. Attempts are limited per address and ' +
    'per client network (an IPv6 /64): 429 sign_in_throttled with Retry-After, without checking the password. ' +
    "A sign-in that completes (here, or at POST /v1/auth/mfa) sets the account's language, for its security " +
    "notices, to the closest catalogue locale of the body's locale, else of the Accept-Language header (else " +
    'DEFAULT_LOCALE). ' +
    'When password hashing is at capacity: 503 service_unavailable with Retry-After.',
  body: Type.Object(
    { email: EmailInput, password: Password(1), locale: Type.Optional(Locale) },
    { additionalProperties: false },
  ),
  response: {
    200: Type.Union([TokensAndUser, MfaRequired], { description: 'Signed in, or the MFA step is needed' }),
    ...problemResponses(400, 401, 413, 415, 429),
  },
};

const MfaToken = OpaqueToken('The mfaToken from sign-in');

export const mfaSchema = {
  tags: ['auth'],
  summary: 'Complete sign-in with a second factor',
  description:
    "Completes the sign-in begun with a password or a login code; the account's language (for its security " +
    'notices) becomes that of the first step, not of this request.',
  body: Type.Union([
    Type.Object(
      { mfaToken: MfaToken, code: Type.String({ pattern: '^[0-9]{6,8}$', description: 'Authenticator code' }) },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        mfaToken: MfaToken,
        recoveryCode: Type.String({ minLength: 6, maxLength: 64, pattern: '^[A-Za-z0-9-]+$' }),
      },
      { additionalProperties: false },
    ),
  ]),
  response: { 200: TokensAndUser, ...problemResponses(400, 401, 413, 415, 429) },
};

const RefreshBody = Type.Object(
  { refreshToken: OpaqueToken('A refresh token from a sign-in or a refresh') },
  { additionalProperties: false },
);

export const refreshSchema = {
  tags: ['auth'],
  summary: 'Rotate a refresh token',
  description:
    'Returns a new pair; the presented refresh token stops working. Presenting a retired one revokes its whole family.',
  body: RefreshBody,
  response: {
    200: Type.Object({ tokens: Tokens }, { description: 'A new token pair' }),
    ...problemResponses(400, 401, 413, 415, 429),
  },
};

export const logoutSchema = {
  tags: ['auth'],
  summary: 'Sign out: revoke the refresh token and its family',
  body: RefreshBody,
  response: {
    204: Type.Null({ description: 'Signed out (also for an unknown token)' }),
    ...problemResponses(400, 413, 415, 429),
  },
};

export const logoutAllSchema = {
  tags: ['auth'],
  summary: "Sign out everywhere: end every session of the account, the caller's own included",
  security: BEARER_SECURITY,
  response: {
    204: Type.Null({ description: 'Every session ended: their refresh tokens and access tokens stop working' }),
    ...problemResponses(401, 429),
  },
};
