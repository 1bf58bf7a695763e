import { normalizeEmail } from '@otp/domain';
import { describe, expect, it } from 'vitest';
import { login, loginTokens, PASSWORD, refresh, registerUnverified } from '../../testing/accounts.ts';
import { deliveredCode } from '../../testing/delivered-code.ts';
import { pinClock, totpAt } from '../../testing/factors.ts';
import { requestCode, verify } from '../../testing/flows.ts';
import { useTestGateway } from '../../testing/gateway.fixture.ts';
import { bearer, post } from '../../testing/gateway.harness.ts';

// Pre-hijacking: someone registers an address they do not own, sets things up on the account,
// and waits for the owner to sign in to it. The owner's proof of the address must leave none of it.
describe('an address registered by someone else', () => {
  const { gateway, database } = useTestGateway();

  const setVerified = (userId: string, verified: boolean) =>
    database.db
      .updateTable('users')
      .set({ email_verified_at: verified ? new Date() : null })
      .where('id', '=', userId)
      .execute();

  /**
   * A registrant who got as far as an account with a session, a phone and an authenticator app:
   * what an unverified account could hold before password sign-in required a verified address.
   */
  async function registrantWithEverything(label: string) {
    const at = pinClock(gateway);
    const registered = await registerUnverified(gateway, label);
    await setVerified(registered.userId, true);
    const { accessToken, refreshToken } = await loginTokens(gateway, registered.email);
    const enrolled = await post(gateway.app, '/v1/me/totp', undefined, bearer(accessToken));
    const secret = String(enrolled.body.secret);
    const enabled = await post(
      gateway.app,
      '/v1/me/totp/verify',
      { code: totpAt(secret, at, -1) },
      bearer(accessToken),
    );
    expect(enabled.status).toBe(200);
    await database.db
      .updateTable('users')
      .set({ phone: '+14155550199', phone_verified_at: new Date() })
      .where('id', '=', registered.userId)
      .execute();
    await setVerified(registered.userId, false);
    return { ...registered, refreshToken };
  }

  it('cannot be signed in to with the password before the address is verified', async () => {
    const { email } = await registerUnverified(gateway, 'early');
    const right = await login(gateway, email);
    expect(right.status).toBe(403);
    expect(right.body.code).toBe('email_not_verified');
    // A wrong password says what it says for any account.
    const wrong = await login(gateway, email, 'not the password');
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe('invalid_credentials');
  });

  it("loses the registrant's password, phone, factors, recovery codes and sessions when the owner signs in by code", async () => {
    const registrant = await registrantWithEverything('hijack');
    const { id, code } = await requestCode(gateway, { channel: 'email', to: registrant.email });
    const owner = await verify(gateway, id, code);
    // No MFA step: the registrant's authenticator is gone before tokens are issued.
    expect(owner.status).toBe(200);
    expect(owner.body.user).toMatchObject({ id: registrant.userId, emailVerified: true, phone: null });
    expect(owner.body).toHaveProperty('tokens');

    expect((await login(gateway, registrant.email)).status).toBe(401);
    expect((await refresh(gateway, registrant.refreshToken)).status).toBe(401);
    const left = async (table: 'user_factors' | 'recovery_codes') =>
      (await database.db.selectFrom(table).select('user_id').where('user_id', '=', registrant.userId).execute()).length;
    expect(await left('user_factors')).toBe(0);
    expect(await left('recovery_codes')).toBe(0);
    const claimed = await database.db
      .selectFrom('security_events')
      .select('details')
      .where('user_id', '=', registrant.userId)
      .where('type', '=', 'user.claimed')
      .executeTakeFirstOrThrow();
    expect(claimed.details).toMatchObject({ password: true, phone: true, factors: 1, recoveryCodes: 10, sessions: 1 });
  });

  it('loses them too when the owner verifies the address with a verify_email code of their own', async () => {
    const registrant = await registrantWithEverything('elsewhere');
    const { id, code } = await requestCode(gateway, {
      channel: 'email',
      to: registrant.email,
      purpose: 'verify_email',
    });
    expect((await verify(gateway, id, code)).body).toEqual({ outcome: 'verified', verified: true });
    const row = await database.db
      .selectFrom('users')
      .selectAll()
      .where('email', '=', normalizeEmail(registrant.email))
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ password_hash: null, phone: null });
    expect(row.email_verified_at).toBeInstanceOf(Date);
  });

  it("keeps a registrant's settings when they verify with their registration's own code", async () => {
    const { email, challengeId } = await registerUnverified(gateway, 'honest');
    expect((await verify(gateway, challengeId, await deliveredCode(gateway, challengeId))).status).toBe(200);
    expect((await login(gateway, email, PASSWORD)).status).toBe(200);
  });

  it('is deleted by the purge once nobody verified it for UNVERIFIED_ACCOUNT_TTL_SECONDS', async () => {
    const stale = await registerUnverified(gateway, 'stale');
    const fresh = await registerUnverified(gateway, 'fresh');
    const aged = new Date(Date.now() - (gateway.config.UNVERIFIED_ACCOUNT_TTL_SECONDS + 60) * 1000);
    await database.db.updateTable('users').set({ updated_at: aged }).where('id', '=', stale.userId).execute();
    const outcome = await gateway.deps.purge.runOnce();
    expect(outcome.unverifiedAccounts).toBeGreaterThanOrEqual(1);
    const ids = (await database.db.selectFrom('users').select('id').execute()).map((row) => row.id);
    expect(ids).not.toContain(stale.userId);
    expect(ids).toContain(fresh.userId);
    // Registration told the webhooks the account was created: the purge tells them it is gone.
    const deleted = await database.db
      .selectFrom('event_outbox')
      .select(['type', 'data'])
      .where('type', '=', 'user.deleted')
      .execute();
    expect(deleted.map((row) => row.data)).toContainEqual({ userId: stale.userId, by: 'expiry' });
    expect(deleted.some((row) => row.data.userId === fresh.userId)).toBe(false);
  });
});
