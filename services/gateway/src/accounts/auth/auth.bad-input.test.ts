import { beforeAll, describe, it } from 'vitest';
import { loginTokens, PASSWORD, registerUser } from '../../testing/accounts.ts';
import { bad, expectRefusedWithoutWrites } from '../../testing/bad-input.ts';
import { useTestGateway } from '../../testing/gateway.fixture.ts';
import { uniqueEmail } from '../../testing/gateway.harness.ts';

describe('bad input on /v1/auth/*: a 4xx problem with a stable code, and nothing written', () => {
  let email: string;
  let accessToken: string;
  const { gateway, database } = useTestGateway();

  beforeAll(async () => {
    ({ email } = await registerUser(gateway, 'bad-input'));
    accessToken = (await loginTokens(gateway, email)).accessToken;
  });

  it('refuses malformed registrations', async () => {
    const fresh = uniqueEmail('fresh');
    const url = '/v1/auth/register';
    await expectRefusedWithoutWrites(gateway, database.db, [
      bad('no fields', url, {}),
      bad('no password', url, { email: fresh }),
      bad('invalid email', url, { email: 'not-an-email', password: PASSWORD }),
      bad('email too long', url, { email: `${'a'.repeat(250)}@example.com`, password: PASSWORD }),
      bad('weak password (7 characters)', url, { email: fresh, password: '1234567' }),
      bad('oversized password (129 characters)', url, { email: fresh, password: 'p'.repeat(129) }),
      bad('password a number', url, { email: fresh, password: 12345678 }),
      bad('unknown field', url, { email: fresh, password: PASSWORD, admin: true }),
      bad('name too long', url, { email: fresh, password: PASSWORD, name: 'x'.repeat(5000) }),
      bad('malformed JSON', url, '{"email":', { code: 'malformed_body' }),
      bad('not JSON', url, 'email=a', {
        contentType: 'application/x-www-form-urlencoded',
        status: 415,
        code: 'unsupported_media_type',
      }),
      bad('huge body', url, { email: fresh, password: 'x'.repeat(20_000) }, { status: 413, code: 'body_too_large' }),
    ]);
  });

  it('refuses malformed sign-ins, MFA steps, refreshes and logouts', async () => {
    const unknownToken = 'A'.repeat(43);
    await expectRefusedWithoutWrites(gateway, database.db, [
      bad('login: no password', '/v1/auth/login', { email }),
      bad('login: email a number', '/v1/auth/login', { email: 5, password: PASSWORD }),
      bad('login: oversized password', '/v1/auth/login', { email, password: 'x'.repeat(5000) }),
      bad('login: empty password', '/v1/auth/login', { email, password: '' }),
      bad('login: invalid email', '/v1/auth/login', { email: 'nope', password: PASSWORD }),
      bad('mfa: no token', '/v1/auth/mfa', { code: '123456' }),
      bad('mfa: code and recovery code', '/v1/auth/mfa', {
        mfaToken: unknownToken,
        code: '123456',
        recoveryCode: 'abcd-efgh',
      }),
      bad('mfa: code not digits', '/v1/auth/mfa', { mfaToken: unknownToken, code: 'abcdef' }),
      bad(
        'mfa: unknown token',
        '/v1/auth/mfa',
        { mfaToken: unknownToken, code: '123456' },
        {
          status: 401,
          code: 'invalid_mfa_token',
        },
      ),
      bad('refresh: no token', '/v1/auth/refresh', {}),
      bad('refresh: token a number', '/v1/auth/refresh', { refreshToken: 1 }),
      bad('refresh: token too long', '/v1/auth/refresh', { refreshToken: 'x'.repeat(5000) }),
      bad('refresh: an access token', '/v1/auth/refresh', { refreshToken: accessToken }),
      bad(
        'refresh: unknown token',
        '/v1/auth/refresh',
        { refreshToken: unknownToken },
        {
          status: 401,
          code: 'invalid_refresh_token',
        },
      ),
      bad('logout: no token', '/v1/auth/logout', {}),
    ]);
  });
});
