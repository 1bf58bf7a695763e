import Type from 'typebox';
import { BEARER_SECURITY } from '../../http/openapi.ts';
import { problemResponses } from '../../http/schemas.ts';
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
