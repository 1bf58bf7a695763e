import { ERROR_CODES, isEmailAddress } from '@otp/domain';
import Type from 'typebox';

// Shared atoms of the route schemas: one definition each, so the OpenAPI document and the
// validation agree everywhere.

export const Uuid = Type.String({ format: 'uuid', description: 'A UUID' });

/**
 * An email address as a client sends it: any case, Unicode (RFC 6531) and IDN domains accepted,
 * checked by `normalizeEmail`'s rules (`idn-email` below), so a malformed one is a 400 here. Longer
 * than an address may be: surrounding spaces, decomposed letters and Unicode domains shrink or
 * grow on the way to the normal form, whose own limit (254 octets) `normalizeEmail` applies.
 */
export const EmailInput = Type.String({
  format: 'idn-email',
  maxLength: 320,
  description: 'An email address in any case; IDN domains accepted. The account holds its normal form',
});

/** An email address in its normal form, as the server keeps and answers it. */
export const Email = Type.String({
  format: 'idn-email',
  maxLength: 254,
  description: 'An email address in its normal form: lower-case, Unicode NFC, the domain in ASCII (IDNA)',
});

/**
 * Formats of these schemas that ajv-formats lacks (`idn-email` is JSON Schema's name for an
 * address that may hold Unicode; ajv-formats' `email` refuses any), for `buildApp`. Requests are
 * checked against them; answers only name them (`true`: known, not checked), so the serializer
 * never fails on an account whose stored address today's rules would refuse.
 */
export const REQUEST_FORMATS = { 'idn-email': isEmailAddress };
export const ANSWER_FORMATS = { 'idn-email': true } as const;

export const E164Phone = Type.String({
  pattern: '^\\+[1-9][0-9]{6,14}$',
  description: 'A phone number in E.164, e.g. +14155552671',
});

/**
 * The token a CAPTCHA widget gave the client, for the requests the human check covers (http/captcha.ts).
 * Bounded well above the providers' tokens (Turnstile's are at most 2048 characters).
 */
export const CaptchaToken = Type.String({
  maxLength: 4096,
  description:
    "The CAPTCHA widget's token (Turnstile, hCaptcha or reCAPTCHA, as the server is configured), single use. " +
    'Needed when the server asks for a human check: 400 captcha_required without it, captcha_failed when refused',
});

/**
 * The language a request's message is asked in (http/locale.ts chooses the catalogue locale). The
 * pattern only bounds what is stored and logged; any tag the catalogue lacks falls back.
 */
export const Locale = Type.String({
  pattern: '^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$',
  maxLength: 35,
  description:
    'BCP 47 language tag of the message (de, pt-BR). Wins over the Accept-Language header; without either, the ' +
    "signed-in account's language (POST /v1/me/*), else the server's DEFAULT_LOCALE. The closest locale the " +
    'message catalogue has is used (de-CH: de; pt: pt-BR; one it lacks: DEFAULT_LOCALE) and recorded on the ' +
    'challenge (GET /v1/otp/challenges/{id} shows it; resends keep it)',
});

export const Timestamp = Type.String({ format: 'date-time', description: 'RFC 3339 date-time (UTC)' });

export const IdParams = Type.Object({ id: Uuid }, { additionalProperties: false });

/** RFC 9457 problem details, as every error is answered. */
export const Problem = Type.Object(
  {
    type: Type.String({ description: 'Always about:blank: the status and `code` say it all' }),
    title: Type.String(),
    status: Type.Integer(),
    code: Type.Unsafe<keyof typeof ERROR_CODES>({
      type: 'string',
      enum: Object.keys(ERROR_CODES),
      description: 'Stable machine-readable error code (docs/api.md lists them); branch on this',
    }),
    detail: Type.Optional(Type.String()),
    attemptsRemaining: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: true, description: 'Problem details (RFC 9457)' },
);

const STATUS_TEXT: Record<number, string> = {
  400: 'Invalid request or wrong code',
  401: 'Missing or invalid access token',
  403: 'Forbidden',
  404: 'Not found',
  409: 'Conflict',
  410: 'Gone: expired, used or failed',
  413: 'Body too large',
  415: 'Unsupported media type',
  429: 'Too many requests (see Retry-After)',
  500: 'Internal error',
  503: 'Dependency unavailable (see Retry-After)',
};

/** Response schemas for the given error statuses, as application/problem+json. */
export function problemResponses(...statuses: number[]) {
  const responses: Record<number, unknown> = {};
  for (const status of [...statuses, 500, 503]) {
    responses[status] = {
      description: STATUS_TEXT[status] ?? 'Error',
      content: { 'application/problem+json': { schema: Problem } },
    };
  }
  return responses;
}
