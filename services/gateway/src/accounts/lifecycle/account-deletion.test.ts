import { normalizeEmail } from '@otp/domain';
import { describe, expect, it } from 'vitest';
import { login, loginTokens, refresh, registerUser } from '../../testing/accounts.ts';
import { del, pinClock, totpAt, userWithTotp } from '../../testing/factors.ts';
import { requestCode, verify } from '../../testing/flows.ts';
import { useTestGateway } from '../../testing/gateway.fixture.ts';
import { bearer, get } from '../../testing/gateway.harness.ts';

const REAUTH_MAX_AGE = 600;

describe('DELETE /v1/me: a user deletes their account', () => {
  const { gateway, database } = useTestGateway({ env: { REAUTH_MAX_AGE_SECONDS: String(REAUTH_MAX_AGE) } });
  const deleteMe = (accessToken: string, body: unknown = {}) => del(gateway.app, '/v1/me', body, bearer(accessToken));
  const userRow = (userId: string) =>
    database.db.selectFrom('users').select('id').where('id', '=', userId).executeTakeFirst();

  it('deletes an account without factors with {}: its tokens, password and sessions stop working', async () => {
    const { email, userId } = await registerUser(gateway, 'del-plain');
    const tokens = await loginTokens(gateway, email);

    const deleted = await deleteMe(tokens.accessToken);
    expect(deleted.status, String(deleted.body.code)).toBe(204);
    expect(await userRow(userId)).toBeUndefined();

    expect((await get(gateway.app, '/v1/me', bearer(tokens.accessToken))).status).toBe(401);
    expect((await refresh(gateway, tokens.refreshToken)).body.code).toBe('invalid_refresh_token');
    expect((await deleteMe(tokens.accessToken)).status).toBe(401);
    // As for an address that never had an account: nothing tells them apart.
    const signIn = await login(gateway, email);
    expect(signIn.status).toBe(401);
    expect(signIn.body.code).toBe('invalid_credentials');
    const never = await login(gateway, `never.${email}`);
    expect(never.body).toMatchObject({ code: signIn.body.code, status: signIn.body.status });
  });

  it('lets a code sign-in to the same address create a new, empty account afterwards', async () => {
    const { email, userId } = await registerUser(gateway, 'del-again');
    expect((await deleteMe((await loginTokens(gateway, email)).accessToken)).status).toBe(204);

    const { id, code } = await requestCode(gateway, { channel: 'email', to: email, purpose: 'login' });
    const signedIn = await verify(gateway, id, code);
    expect(signedIn.status, String(signedIn.body.code)).toBe(200);
    const accessToken = String((signedIn.body.tokens as { accessToken: string }).accessToken);
    const me = await get(gateway.app, '/v1/me', bearer(accessToken));
    expect(me.body).toMatchObject({ email: normalizeEmail(email), phone: null, name: null });
    expect(me.body.id).not.toBe(userId);
    expect(me.body.factors).toMatchObject({ totp: false, hotp: false });
  });

  it("removes a code someone else asked for to the account's address: the address is the person's data", async () => {
    const { email } = await registerUser(gateway, 'del-theirs');
    const { accessToken } = await loginTokens(gateway, email);
    // Asked for without signing in: the challenge names no account, only the address's keyed hash.
    const theirs = await requestCode(gateway, { channel: 'email', to: email, purpose: 'login' });
    expect((await deleteMe(accessToken)).status).toBe(204);

    const after = await verify(gateway, theirs.id, theirs.code);
    expect(after.status).toBe(404);
    expect(after.body.code).toBe('challenge_not_found');
  });

  it('asks an account with TOTP for a code: missing 400, wrong invalid_factor_code (counted), right 204', async () => {
    const at = pinClock(gateway);
    try {
      const user = await userWithTotp(gateway, at, 'del-totp');

      const missing = await deleteMe(user.accessToken);
      expect(missing.status).toBe(400);
      expect(missing.body.code).toBe('factor_proof_required');

      const wrong = await deleteMe(user.accessToken, { code: totpAt(user.secret, at, 5) });
      expect(wrong.status).toBe(400);
      expect(wrong.body.code).toBe('invalid_factor_code');
      const counted = await database.db
        .selectFrom('users')
        .select('factor_failures')
        .where('id', '=', user.userId)
        .executeTakeFirstOrThrow();
      expect(counted.factor_failures).toBe(1);
      expect(await userRow(user.userId)).toBeDefined();

      const right = await deleteMe(user.accessToken, { code: totpAt(user.secret, at) });
      expect(right.status, String(right.body.code)).toBe(204);
      expect(await userRow(user.userId)).toBeUndefined();
    } finally {
      gateway.deps.clock = undefined;
    }
  });

  it('takes a recovery code, also while wrong codes have locked the factor', async () => {
    const at = pinClock(gateway);
    try {
      const user = await userWithTotp(gateway, at, 'del-recovery');
      await database.db
        .updateTable('users')
        .set({ factor_failures: gateway.config.FACTOR_LOCKOUT_FAILURES })
        .where('id', '=', user.userId)
        .execute();
      const locked = await deleteMe(user.accessToken, { code: totpAt(user.secret, at) });
      expect(locked.status).toBe(403);
      expect(locked.body.code).toBe('factor_locked');

      const wrongRecovery = await deleteMe(user.accessToken, { recoveryCode: 'aaaa-bbbb-cccc-dddd' });
      expect(wrongRecovery.body.code).toBe('invalid_factor_code');

      const recovered = await deleteMe(user.accessToken, { recoveryCode: user.recoveryCodes[0] });
      expect(recovered.status, String(recovered.body.code)).toBe(204);
      expect(await userRow(user.userId)).toBeUndefined();
      const left = await database.db
        .selectFrom('recovery_codes')
        .select('id')
        .where('user_id', '=', user.userId)
        .execute();
      expect(left).toEqual([]);
    } finally {
      gateway.deps.clock = undefined;
    }
  });

  it('refuses a bad body with 400 validation_failed and changes nothing', async () => {
    const { email, userId } = await registerUser(gateway, 'del-bad');
    const { accessToken } = await loginTokens(gateway, email);
    for (const body of [
      { everything: true },
      { code: 'abcdef' },
      { code: '123456', recoveryCode: 'aaaa-bbbb-cccc-dddd' },
      { recoveryCode: 1 },
      [],
    ]) {
      const refused = await deleteMe(accessToken, body);
      expect(refused.status, JSON.stringify(body)).toBe(400);
      expect(refused.body.code).toBe('validation_failed');
    }
    expect(await userRow(userId)).toBeDefined();
    expect((await get(gateway.app, '/v1/me', bearer(accessToken))).status).toBe(200);
  });

  it('needs a recent sign-in: 401 reauthentication_required, nothing deleted', async () => {
    const { email, userId } = await registerUser(gateway, 'del-stale');
    gateway.deps.clock = () => new Date(Date.now() - (REAUTH_MAX_AGE + 60) * 1000);
    let accessToken: string;
    try {
      ({ accessToken } = await loginTokens(gateway, email));
    } finally {
      gateway.deps.clock = undefined;
    }
    const refused = await deleteMe(accessToken);
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ code: 'reauthentication_required', maxAge: REAUTH_MAX_AGE });
    expect(await userRow(userId)).toBeDefined();
  });

  it('needs an access token', async () => {
    const anonymous = await del(gateway.app, '/v1/me', {});
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.code).toBe('unauthorized');
  });
});
