import { revokeUserSessions, setUserDisabled, sql } from '@otp/db';
import { describe, expect, it, vi } from 'vitest';
import { login, loginTokens, PASSWORD, refresh, registerUser } from '../testing/accounts.ts';
import { adminCall, auditRows } from '../testing/admin.ts';
import { pinClock, totpAt, userWithTotp } from '../testing/factors.ts';
import { requestCode, verify } from '../testing/flows.ts';
import { useTestGateway } from '../testing/gateway.fixture.ts';
import { bearer, get, post, TEST_ADMIN_OPERATOR } from '../testing/gateway.harness.ts';

// A disabled account signs in by no method (password, code, MFA step, refresh) and no access
// token of it works: each answers 403 account_disabled. Enabling it restores sign-in (the old
// sessions stay ended). A disable racing sign-ins never leaves a live session behind it.

describe('a disabled account', () => {
  const { gateway } = useTestGateway({
    env: { SIGN_IN_FAILURES_PER_ACCOUNT: '1000', SIGN_IN_FAILURES_PER_IP: '1000', OTP_RECIPIENT_LIMIT: '100' },
  });

  const disable = (userId: string) =>
    adminCall(gateway, 'POST', `/admin/v1/users/${userId}/disable`, { actor: 'Ops Person' });
  const enable = (userId: string) => adminCall(gateway, 'POST', `/admin/v1/users/${userId}/enable`);

  it('is refused at password sign-in, code sign-in, refresh and with its access token; enable restores sign-in', async () => {
    const { email, userId } = await registerUser(gateway, 'disabled');
    const tokens = await loginTokens(gateway, email);
    expect((await disable(userId)).status).toBe(204);

    const me = await get(gateway.app, '/v1/me', bearer(tokens.accessToken));
    expect([me.status, me.body.code]).toEqual([403, 'account_disabled']);
    const refreshed = await refresh(gateway, tokens.refreshToken);
    expect([refreshed.status, refreshed.body.code]).toEqual([403, 'account_disabled']);
    const password = await login(gateway, email);
    expect([password.status, password.body.code]).toEqual([403, 'account_disabled']);
    const code = await requestCode(gateway, { channel: 'email', to: email, purpose: 'login' });
    const byCode = await verify(gateway, code.id, code.code);
    expect([byCode.status, byCode.body.code]).toEqual([403, 'account_disabled']);

    // A wrong password still says only invalid_credentials: being disabled is told only to
    // whoever knows the password.
    const wrong = await login(gateway, email, 'not the password at all');
    expect([wrong.status, wrong.body.code]).toEqual([401, 'invalid_credentials']);

    const live = await gateway.deps.db
      .selectFrom('sessions')
      .select('id')
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .execute();
    expect(live).toEqual([]);
    const [disabled] = await auditRows(gateway, 'admin.user_disabled', userId);
    expect(disabled?.details).toMatchObject({
      operator: TEST_ADMIN_OPERATOR,
      actor: 'Ops Person',
      wasDisabled: false,
      revoked: 1,
    });
    const refusals = await auditRows(gateway, 'sign_in.disabled', userId);
    expect(refusals.map((row) => row.details.method).sort()).toEqual(['password', 'refresh']);
    const detail = await adminCall(gateway, 'GET', `/admin/v1/users/${userId}`);
    expect(detail.body.disabledAt).toEqual(expect.any(String));

    expect((await enable(userId)).status).toBe(204);
    expect((await login(gateway, email)).status).toBe(200);
    const again = await verify(gateway, code.id, code.code); // the refused code was not consumed
    expect(again.status).toBe(200);
    // What the disable ended stays ended.
    expect((await refresh(gateway, tokens.refreshToken)).body.code).toBe('invalid_refresh_token');
    const [enabled] = await auditRows(gateway, 'admin.user_enabled', userId);
    expect(enabled?.details).toEqual({ operator: TEST_ADMIN_OPERATOR, actor: null, wasDisabled: true });
  });

  it('is refused at the MFA step, with an mfaToken from before the disable too', async () => {
    const at = pinClock(gateway);
    const user = await userWithTotp(gateway, at, 'disabled-mfa');
    const first = await login(gateway, user.email);
    expect(first.body.mfaRequired).toBe(true);
    expect((await disable(user.userId)).status).toBe(204);
    const code = totpAt(user.secret, at);
    const step = await post(gateway.app, '/v1/auth/mfa', { mfaToken: first.body.mfaToken, code });
    // The disable spent the pending mfaToken.
    expect([step.status, step.body.code]).toEqual([401, 'invalid_mfa_token']);

    // An mfaToken handed out after a disable cannot exist (the password check refuses first), so
    // the step's own check is shown by a disable that lands between the password and the step.
    expect((await enable(user.userId)).status).toBe(204);
    const second = await login(gateway, user.email);
    await gateway.deps.db.updateTable('users').set({ disabled_at: new Date() }).where('id', '=', user.userId).execute();
    const refused = await post(gateway.app, '/v1/auth/mfa', { mfaToken: second.body.mfaToken, code });
    expect([refused.status, refused.body.code]).toEqual([403, 'account_disabled']);
    expect((await auditRows(gateway, 'sign_in.disabled', user.userId)).map((row) => row.details.method)).toEqual([
      'mfa',
    ]);
  });

  it('makes a sign-in that read the account before a disable committed wait for it, then refuses it', async () => {
    const { email, userId } = await registerUser(gateway, 'ordered');
    const { db } = gateway.deps;
    let signIn: ReturnType<typeof login> | undefined;
    // The disable's transaction, held open until the sign-in is waiting on the account's row: the
    // sign-in read the account as enabled (the disable is not committed) and checked the password.
    await db.transaction().execute(async (trx) => {
      await setUserDisabled(trx, userId, new Date());
      await revokeUserSessions(trx, userId, new Date(), 'disabled');
      signIn = login(gateway, email);
      await vi.waitFor(
        async () => {
          const waiting = await sql<{ n: number }>`
            SELECT count(*)::int AS n FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock'`.execute(db);
          expect(waiting.rows[0]?.n).toBeGreaterThan(0);
        },
        { timeout: 10_000, interval: 20 },
      );
    });
    const answer = await signIn;
    expect([answer?.status, answer?.body.code]).toEqual([403, 'account_disabled']);
    const live = await db.selectFrom('sessions').select('id').where('user_id', '=', userId).execute();
    expect(live).toEqual([]);
  });

  it('keeps no live session when a disable races password sign-ins', async () => {
    const { email, userId } = await registerUser(gateway, 'race');
    const signIns = Array.from({ length: 8 }, () => login(gateway, email, PASSWORD));
    const [disabled, ...answers] = await Promise.all([disable(userId), ...signIns]);
    expect(disabled?.status).toBe(204);
    for (const answer of answers) expect([200, 403]).toContain(answer.status);

    const live = await gateway.deps.db
      .selectFrom('sessions')
      .select('id')
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .execute();
    expect(live).toEqual([]);
    const liveTokens = await gateway.deps.db
      .selectFrom('refresh_tokens')
      .select('id')
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .execute();
    expect(liveTokens).toEqual([]);
    // Tokens handed out to sign-ins that won the race are refused now.
    for (const answer of answers.filter((one) => one.status === 200)) {
      const { accessToken, refreshToken } = answer.body.tokens as { accessToken: string; refreshToken: string };
      expect((await get(gateway.app, '/v1/me', bearer(accessToken))).body.code).toBe('account_disabled');
      expect((await refresh(gateway, refreshToken)).body.code).toBe('account_disabled');
    }
  });
});
