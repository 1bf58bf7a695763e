import Type from 'typebox';
import { BEARER_SECURITY } from '../../http/openapi.ts';
import { CaptchaToken, EmailInput, Locale, problemResponses, Uuid } from '../../http/schemas.ts';
import { PASSWORD_MIN_LENGTH, Password } from './auth.schemas.ts';

export const changePasswordSchema = {
  tags: ['account'],
  summary: 'Set or change the password',
  description:
    'Needs a recent sign-in (401 reauthentication_required). An account with a password must give it as ' +
    'currentPassword (400 validation_failed without it; 401 invalid_credentials when wrong, counted like a failed ' +
    'sign-in: 429 sign_in_throttled at the limit); an account without one sets its first. Every other sign-in of ' +
    'the account ends; the caller stays signed in. A password-changed notice goes to the verified address.',
  security: BEARER_SECURITY,
  body: Type.Object(
    {
      currentPassword: Type.Optional(Password(1)),
      newPassword: Password(PASSWORD_MIN_LENGTH),
    },
    { additionalProperties: false },
  ),
  response: {
    204: Type.Null({ description: 'Changed; other sessions signed out' }),
    ...problemResponses(400, 401, 413, 415, 429),
  },
};

export const forgotPasswordSchema = {
  tags: ['auth'],
  summary: 'Ask for a password reset code by email',
  description:
    'Answers alike for every address (202 and a challenge id), and sends a message to every address: a ' +
    'reset_password code to an account whose email is verified, otherwise an email saying there is no password to ' +
    'reset, with no code. Limited per client and per address like any code request.',
  body: Type.Object(
    { email: EmailInput, locale: Type.Optional(Locale), captchaToken: Type.Optional(CaptchaToken) },
    { additionalProperties: false },
  ),
  response: {
    202: Type.Object({ challengeId: Uuid }, { description: 'Accepted: a message is on its way to the address' }),
    ...problemResponses(400, 413, 415, 429),
  },
};

export function resetPasswordSchema(codeLength: number) {
  return {
    tags: ['auth'],
    summary: 'Set a new password with a reset code',
    description:
      'Takes only a code of a reset_password challenge (any other challenge: 400 validation_failed). Sets the ' +
      'password and ends every session of the account; signs no one in, and the second factor stays: the next ' +
      'sign-in still asks for it. Wrong codes count like any code: invalid_code, too_many_attempts, recipient_locked.',
    body: Type.Object(
      {
        challengeId: Uuid,
        code: Type.String({ pattern: `^[0-9]{${codeLength}}$`, description: `The ${codeLength}-digit code` }),
        newPassword: Password(PASSWORD_MIN_LENGTH),
      },
      { additionalProperties: false },
    ),
    response: {
      204: Type.Null({ description: 'The password is set; every session of the account is signed out' }),
      ...problemResponses(400, 404, 410, 413, 415, 429),
    },
  };
}
