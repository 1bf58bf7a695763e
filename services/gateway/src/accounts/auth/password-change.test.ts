import { describe, expect, it } from 'vitest';
import { login, loginTokens, PASSWORD, refresh, registerUser } from '../../testing/accounts.ts';
import { requestCode, verify } from '../../testing/flows.ts';
import { useTestGateway } from '../../testing/gateway.fixture.ts';
import { bearer, get, post, uniqueEmail } from '../../testing/gateway.harness.ts';

const NEW_PASSWORD = 'a new and longer passphrase';

describe('POST /v1/me/password', () => {
  const { gateway } = useTestGateway();
  const change = (accessToken: string, body: Record<string, unknown>) =>
    post(gateway.app, '/v1/me/password', body, bearer(accessToken));
  const events = (userId: string, type: string) =>
    gateway.deps.db
      .selectFrom('security_events')
      .select('details')
      .where('user_id', '=', userId)
      .where('type', '=', type)
      .orderBy('id')
      .execute();

  it('changes the password with the current one, ends the other sessions and keeps the caller', async () => {
    const { email, userId } = await registerUser(gateway, 'pw-change');
    const other = await loginTokens(gateway, email);
    const caller = await loginTokens(gateway, email);

    expect((await change(caller.accessToken, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD })).status).toBe(
      204,
    );

    expect((await login(gateway, email)).body.code).toBe('invalid_credentials');
    expect((await login(gateway, email, NEW_PASSWORD)).status).toBe(200);
    // The other sign-in is over, its access and refresh tokens alike; the caller's goes on.
    expect((await get(gateway.app, '/v1/me', bearer(other.accessToken))).status).toBe(401);
    expect((await refresh(gateway, other.refreshToken)).status).toBe(401);
    expect((await get(gateway.app, '/v1/me', bearer(caller.accessToken))).status).toBe(200);
    expect((await refresh(gateway, caller.refreshToken)).status).toBe(200);

    expect((await events(userId, 'password.changed')).map((row) => row.details)).toEqual([
      { how: 'change', sessionsRevoked: 1 },
    ]);
    const notices = await gateway.deps.db
      .selectFrom('notifications')
      .select('template')
      .where('user_id', '=', userId)
      .execute();
    expect(notices).toEqual([{ template: 'password-changed' }]);
  });

  it('requires the current password of an account that has one, and refuses a wrong one as a failed sign-in', async () => {
    const { email, userId } = await registerUser(gateway, 'pw-wrong');
    const { accessToken } = await loginTokens(gateway, email);

    const missing = await change(accessToken, { newPassword: NEW_PASSWORD });
    expect(missing.status).toBe(400);
    expect(missing.body.code).toBe('validation_failed');
    const wrong = await change(accessToken, { currentPassword: 'not the password', newPassword: NEW_PASSWORD });
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe('invalid_credentials');

    expect((await events(userId, 'sign_in.failed')).map((row) => row.details)).toEqual([
      { method: 'password_change', reason: 'wrong_password' },
    ]);
    expect(await events(userId, 'password.changed')).toEqual([]);
    expect((await login(gateway, email)).status).toBe(200);
  });

  it('counts wrong current passwords against the address: the sign-in throttle answers 429', async () => {
    const limit = gateway.deps.config.SIGN_IN_FAILURES_PER_ACCOUNT;
    const { email } = await registerUser(gateway, 'pw-oracle');
    const { accessToken } = await loginTokens(gateway, email);
    for (let attempt = 0; attempt < limit; attempt++) {
      const wrong = await change(accessToken, { currentPassword: `guess ${attempt}`, newPassword: NEW_PASSWORD });
      expect(wrong.body.code).toBe('invalid_credentials');
    }
    const refused = await change(accessToken, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD });
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe('sign_in_throttled');
    // The guesses lock the address's password sign-in as well.
    expect((await login(gateway, email)).body.code).toBe('sign_in_throttled');
  });

  it('lets an account that signs in with codes set its first password without a current one', async () => {
    const email = uniqueEmail('pw-first');
    const { id, code } = await requestCode(gateway, { channel: 'email', to: email, purpose: 'login' });
    const signedIn = await verify(gateway, id, code);
    expect(signedIn.status).toBe(200);
    const { accessToken } = signedIn.body.tokens as { accessToken: string };
    const userId = (signedIn.body.user as { id: string }).id;

    expect((await change(accessToken, { newPassword: NEW_PASSWORD })).status).toBe(204);
    expect((await login(gateway, email, NEW_PASSWORD)).status).toBe(200);
    expect((await events(userId, 'password.changed')).map((row) => row.details)).toEqual([
      { how: 'first', sessionsRevoked: 0 },
    ]);
    // From now on the password is needed to change it.
    expect((await change(accessToken, { newPassword: 'yet another passphrase' })).body.code).toBe('validation_failed');
  });

  it('needs a recent sign-in and a password of 8 to 128 characters', async () => {
    const { email } = await registerUser(gateway, 'pw-stepup');
    gateway.deps.clock = () => new Date(Date.now() - (gateway.deps.config.REAUTH_MAX_AGE_SECONDS + 60) * 1000);
    let stale: { accessToken: string };
    try {
      stale = await loginTokens(gateway, email);
    } finally {
      gateway.deps.clock = undefined;
    }
    const old = await change(stale.accessToken, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD });
    expect(old.status).toBe(401);
    expect(old.body.code).toBe('reauthentication_required');

    const { accessToken } = await loginTokens(gateway, email);
    for (const newPassword of ['short', 'x'.repeat(129)]) {
      const refused = await change(accessToken, { currentPassword: PASSWORD, newPassword });
      expect(refused.body.code).toBe('validation_failed');
    }
    expect((await post(gateway.app, '/v1/me/password', { newPassword: NEW_PASSWORD })).status).toBe(401);
    expect((await login(gateway, email)).status).toBe(200);
  });
});
