import { describe, expect, it } from 'vitest';
import { loginTokens, PASSWORD, registerUser } from '../../testing/accounts.ts';
import { deliveredSecret } from '../../testing/delivered-code.ts';
import { useTestGateway } from '../../testing/gateway.fixture.ts';
import { bearer, get, post, uniqueEmail } from '../../testing/gateway.harness.ts';

describe('POST /v1/auth/register', () => {
  const { gateway, database } = useTestGateway();

  it('creates the account with an Argon2id hash and sends a verify_email code', async () => {
    const { email, userId, challengeId } = await registerUser(gateway);
    const row = await database.db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirstOrThrow();
    expect(row.email).toBe(email.replace('Example.COM', 'example.com'));
    expect(row.email_verified_at).toBeNull();
    expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(row.password_hash).not.toContain(PASSWORD);

    const secret = await deliveredSecret(gateway, challengeId);
    expect(secret.to).toBe(row.email);
    const challenge = await get(gateway.app, `/v1/otp/challenges/${challengeId}`);
    expect(challenge.body).toMatchObject({ purpose: 'verify_email', channel: 'email', status: 'pending' });
  });

  it('turns emailVerified true when the verify_email code is verified', async () => {
    const { email, challengeId } = await registerUser(gateway);
    const tokens = await loginTokens(gateway, email);
    expect((await get(gateway.app, '/v1/me', bearer(tokens.accessToken))).body.emailVerified).toBe(false);

    const { code } = await deliveredSecret(gateway, challengeId);
    const verified = await post(gateway.app, `/v1/otp/challenges/${challengeId}/verify`, { code });
    expect(verified.body).toEqual({ verified: true });
    expect((await get(gateway.app, '/v1/me', bearer(tokens.accessToken))).body.emailVerified).toBe(true);
  });

  it('answers 409 email_taken for an address with an account, however it is spelt or was made', async () => {
    const { email } = await registerUser(gateway);
    const again = await post(gateway.app, '/v1/auth/register', {
      email: ` ${email.toLowerCase()}`.trim(),
      password: 'another password',
    });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('email_taken');

    // An account made by a passwordless sign-in holds its address too.
    const passwordless = uniqueEmail('pwless');
    await database.db
      .insertInto('users')
      .values({ email: passwordless.replace('Example.COM', 'example.com') })
      .execute();
    const taken = await post(gateway.app, '/v1/auth/register', { email: passwordless, password: PASSWORD });
    expect(taken.status).toBe(409);
    expect(taken.body.code).toBe('email_taken');
  });

  it('lets exactly one of two concurrent registrations of one address through', async () => {
    const email = uniqueEmail('race');
    const answers = await Promise.all(
      [1, 2].map(() => post(gateway.app, '/v1/auth/register', { email, password: PASSWORD })),
    );
    expect(answers.map((answer) => answer.status).sort()).toEqual([201, 409]);
  });
});
