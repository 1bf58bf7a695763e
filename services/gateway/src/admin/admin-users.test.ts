import { normalizeEmail } from '@otp/domain';
import { describe, expect, it } from 'vitest';
import { loginTokens, registerUser } from '../testing/accounts.ts';
import { adminCall, auditRows } from '../testing/admin.ts';
import { pinClock, totpAt, userWithTotp } from '../testing/factors.ts';
import { requestCode, verify, wrongCode } from '../testing/flows.ts';
import { useTestGateway } from '../testing/gateway.fixture.ts';
import { bearer, get, post, TEST_ADMIN_OPERATOR } from '../testing/gateway.harness.ts';
import { findInDatabase } from '../testing/personal-data.ts';

// Support's routes about one account: find it, see it, and the changes (each recorded with the
// operator who made it, in the transaction of the change).

const UNKNOWN = '00000000-0000-4000-8000-000000000000';

describe('admin: users', () => {
  const { gateway } = useTestGateway({
    env: { FACTOR_LOCKOUT_FAILURES: '2', OTP_RECIPIENT_MAX_FAILURES: '2', MFA_MAX_ATTEMPTS: '5' },
  });

  it('finds an account by email or phone, normalised, and records the lookup masked', async () => {
    const { email, userId } = await registerUser(gateway, 'Search');
    const found = await adminCall(
      gateway,
      'GET',
      `/admin/v1/users?email=${encodeURIComponent(`  ${email.toUpperCase()} `.trim())}`,
    );
    expect(found.status, JSON.stringify(found.body)).toBe(200);
    expect(found.body.users).toEqual([
      {
        id: userId,
        email: normalizeEmail(email),
        emailVerified: true,
        phone: null,
        phoneVerified: false,
        name: null,
        createdAt: expect.any(String),
        disabledAt: null,
      },
    ]);
    const none = await adminCall(gateway, 'GET', '/admin/v1/users?phone=%2B14155550999');
    expect(none.body).toEqual({ users: [] });

    const rows = await auditRows(gateway, 'admin.users_searched');
    expect(rows.map((row) => row.details)).toEqual([
      { operator: TEST_ADMIN_OPERATOR, actor: null, by: 'email', recipient: expect.stringContaining('*'), found: true },
      {
        operator: TEST_ADMIN_OPERATOR,
        actor: null,
        by: 'phone',
        recipient: expect.stringContaining('*'),
        found: false,
      },
    ]);
    expect(JSON.stringify(rows)).not.toContain(normalizeEmail(email));
    expect(JSON.stringify(rows)).not.toContain('4155550999');
  });

  it('answers 400 validation_failed to bad searches and ids, 404 not_found to an unknown id', async () => {
    for (const url of [
      '/admin/v1/users',
      '/admin/v1/users?email=a@example.com&phone=%2B14155550100',
      '/admin/v1/users?email=not-an-address',
      '/admin/v1/users?phone=12345',
      '/admin/v1/users?name=x',
      '/admin/v1/users/not-a-uuid',
    ]) {
      const response = await adminCall(gateway, 'GET', url);
      expect(response.status, url).toBe(400);
      expect(response.body.code).toBe('validation_failed');
    }
    expect((await adminCall(gateway, 'POST', '/admin/v1/users/not-a-uuid/disable')).body.code).toBe(
      'validation_failed',
    );
    for (const path of ['', '/disable', '/enable', '/revoke-sessions', '/reset-factors', '/unlock']) {
      const response = await adminCall(gateway, path === '' ? 'GET' : 'POST', `/admin/v1/users/${UNKNOWN}${path}`);
      expect(response.status, path).toBe(404);
      expect(response.body.code).toBe('not_found');
    }
  });

  it("shows an account's factors, recovery codes, live sessions, latest events and code lock", async () => {
    const at = pinClock(gateway);
    const user = await userWithTotp(gateway, at, 'view');
    const detail = await adminCall(gateway, 'GET', `/admin/v1/users/${user.userId}`, { actor: 'Grace' });
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({
      id: user.userId,
      factors: [{ kind: 'totp', createdAt: expect.any(String), enabled: true, locked: false }],
      recoveryCodesRemaining: user.recoveryCodes.length,
      sessions: [{ id: expect.any(String), userAgent: expect.any(String), ipPrefix: '127.0.0.0/24' }],
      codeSignInLockedUntil: null,
      disabledAt: null,
    });
    const types = (detail.body.recentSecurityEvents as Array<{ type: string }>).map((event) => event.type);
    expect(types).toContain('factor.changed');
    expect(types[0]).not.toBe('admin.user_viewed'); // read before its own event was recorded
    const [viewed] = await auditRows(gateway, 'admin.user_viewed', user.userId);
    expect(viewed?.details).toEqual({ operator: TEST_ADMIN_OPERATOR, actor: 'Grace' });
  });

  it('revoke-sessions ends every session: access and refresh tokens stop working', async () => {
    const { email, userId } = await registerUser(gateway, 'revoke');
    const tokens = await loginTokens(gateway, email);
    expect((await adminCall(gateway, 'POST', `/admin/v1/users/${userId}/revoke-sessions`)).status).toBe(204);
    expect((await get(gateway.app, '/v1/me', bearer(tokens.accessToken))).status).toBe(401);
    expect((await post(gateway.app, '/v1/auth/refresh', { refreshToken: tokens.refreshToken })).body.code).toBe(
      'invalid_refresh_token',
    );
    const [row] = await auditRows(gateway, 'admin.sessions_revoked', userId);
    expect(row?.details).toMatchObject({ operator: TEST_ADMIN_OPERATOR, sessionIds: [expect.any(String)], revoked: 1 });
  });

  it('reset-factors removes TOTP/HOTP and recovery codes: the next sign-in needs no MFA step', async () => {
    const at = pinClock(gateway);
    const user = await userWithTotp(gateway, at, 'reset');
    expect(
      (await post(gateway.app, '/v1/auth/login', { email: user.email, password: 'correct horse battery staple' })).body
        .mfaRequired,
    ).toBe(true);
    expect((await adminCall(gateway, 'POST', `/admin/v1/users/${user.userId}/reset-factors`)).status).toBe(204);
    const factors = await gateway.deps.db
      .selectFrom('user_factors')
      .select('id')
      .where('user_id', '=', user.userId)
      .execute();
    const codes = await gateway.deps.db
      .selectFrom('recovery_codes')
      .select('id')
      .where('user_id', '=', user.userId)
      .execute();
    expect([factors.length, codes.length]).toEqual([0, 0]);
    await loginTokens(gateway, user.email);
    const [row] = await auditRows(gateway, 'admin.factors_reset', user.userId);
    expect(row?.details).toEqual({
      operator: TEST_ADMIN_OPERATOR,
      actor: null,
      factors: 1,
      recoveryCodes: user.recoveryCodes.length,
    });
    // The user is told by email: the factors-reset notice, in the transaction of the reset.
    const notices = await gateway.deps.db
      .selectFrom('notifications')
      .select('template')
      .where('user_id', '=', user.userId)
      .where('template', '=', 'factors-reset')
      .execute();
    expect(notices).toHaveLength(1);
  });

  it("unlock ends the factor lock and the code sign-in lock of the account's address", async () => {
    const at = pinClock(gateway);
    const user = await userWithTotp(gateway, at, 'unlock');
    // Two wrong factor codes (FACTOR_LOCKOUT_FAILURES 2) lock the authenticator codes.
    for (let i = 0; i < 2; i++) {
      const first = await post(gateway.app, '/v1/auth/login', {
        email: user.email,
        password: 'correct horse battery staple',
      });
      const wrong = wrongCode(totpAt(user.secret, at), totpAt(user.secret, at, -1), totpAt(user.secret, at, 1));
      const refused = await post(gateway.app, '/v1/auth/mfa', { mfaToken: first.body.mfaToken, code: wrong });
      expect(refused.status).toBe(400);
    }
    // Two wrong login codes (OTP_RECIPIENT_MAX_FAILURES 2) lock the address's codes.
    const challenge = await requestCode(gateway, { channel: 'email', to: user.email, purpose: 'login' });
    for (let i = 0; i < 2; i++) await verify(gateway, challenge.id, wrongCode(challenge.code));
    expect((await verify(gateway, challenge.id, challenge.code)).body.code).toBe('recipient_locked');

    const locked = await adminCall(gateway, 'GET', `/admin/v1/users/${user.userId}`);
    expect(locked.body.factors).toEqual([expect.objectContaining({ locked: true })]);
    expect(locked.body.codeSignInLockedUntil).not.toBeNull();

    expect((await adminCall(gateway, 'POST', `/admin/v1/users/${user.userId}/unlock`)).status).toBe(204);
    const unlocked = await adminCall(gateway, 'GET', `/admin/v1/users/${user.userId}`);
    expect(unlocked.body.factors).toEqual([expect.objectContaining({ locked: false })]);
    expect(unlocked.body.codeSignInLockedUntil).toBeNull();
    // The address takes codes again: a new login code signs in (to the MFA step).
    const again = await requestCode(gateway, { channel: 'email', to: user.email, purpose: 'login' });
    expect((await verify(gateway, again.id, again.code)).body.mfaRequired).toBe(true);
    const [row] = await auditRows(gateway, 'admin.user_unlocked', user.userId);
    expect(row?.details).toEqual({ operator: TEST_ADMIN_OPERATOR, actor: null, factorLock: true, recipients: 1 });
  });

  it('deletes an account as DELETE /v1/me does, recorded with the operator and naming no account; then 404', async () => {
    const { email, userId } = await registerUser(gateway, 'AdminDelete');
    const { accessToken } = await loginTokens(gateway, email);
    const deleted = await adminCall(gateway, 'DELETE', `/admin/v1/users/${userId}`, { actor: 'Grace at support' });
    expect(deleted.status, JSON.stringify(deleted.body)).toBe(204);

    expect((await get(gateway.app, '/v1/me', bearer(accessToken))).status).toBe(401);
    // Nothing of the account is left where it could be found by its id or address, but the last
    // notice's row (no user id), the anonymised audit trail, and the webhook events, which name
    // the account by its id only (user.deleted tells the application which one went).
    const left = await findInDatabase(gateway.deps.db, [userId, normalizeEmail(email)]);
    expect(left.filter((found) => found.where !== 'event_outbox' || found.needle !== userId)).toEqual([]);
    expect(left.some((found) => found.text.includes('user.deleted'))).toBe(true);
    const ownRows = (await auditRows(gateway, 'admin.user_deleted')).filter(
      (row) => (row.details as { actor?: string }).actor === 'Grace at support',
    );
    expect(ownRows).toHaveLength(1);
    expect(ownRows[0]?.user_id).toBeNull();
    expect(ownRows[0]?.details).toMatchObject({ operator: TEST_ADMIN_OPERATOR, actor: 'Grace at support' });
    const userDeleted = (await auditRows(gateway, 'user.deleted')).filter(
      (row) => (row.details as { by?: string }).by === 'operator',
    );
    expect(userDeleted.length).toBeGreaterThan(0);
    expect(userDeleted.every((row) => row.user_id === null && row.ip === null)).toBe(true);

    const again = await adminCall(gateway, 'DELETE', `/admin/v1/users/${userId}`);
    expect(again.status).toBe(404);
    expect((await adminCall(gateway, 'DELETE', `/admin/v1/users/${userId}`, { key: null })).status).toBe(401);
    expect((await adminCall(gateway, 'DELETE', '/admin/v1/users/not-a-uuid')).status).toBe(400);
  });
});
