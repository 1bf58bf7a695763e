import { normalizeEmail } from '@otp/domain';
import { describe, expect, it } from 'vitest';
import { login, PASSWORD, registerUnverified, registerUser } from '../../testing/accounts.ts';
import { deliveredCode, deliveredSecret, deliveredSend } from '../../testing/delivered-code.ts';
import { requestCode, verify } from '../../testing/flows.ts';
import { useTestGateway } from '../../testing/gateway.fixture.ts';
import { get, post, uniqueEmail } from '../../testing/gateway.harness.ts';

describe('POST /v1/auth/register', () => {
  const { gateway, database } = useTestGateway({ env: { OTP_RECIPIENT_LIMIT: '3' } });

  const userRow = (email: string) =>
    database.db.selectFrom('users').selectAll().where('email', '=', normalizeEmail(email)).executeTakeFirstOrThrow();
  const register = (email: string, password = PASSWORD) => post(gateway.app, '/v1/auth/register', { email, password });

  it('takes a name by the same rule as PATCH /v1/me: stored trimmed; control or bidi characters refused, nothing written', async () => {
    const email = uniqueEmail('named');
    const named = await post(gateway.app, '/v1/auth/register', { email, password: PASSWORD, name: '  Ada Lovelace ' });
    expect(named.status).toBe(202);
    expect((await userRow(email)).name).toBe('Ada Lovelace');

    for (const name of ['Ada\u202Eecalevol', 'line\nbreak', '   ', 'x'.repeat(101)]) {
      const refusedEmail = uniqueEmail('badname');
      const refused = await post(gateway.app, '/v1/auth/register', { email: refusedEmail, password: PASSWORD, name });
      expect(refused.status, JSON.stringify(name)).toBe(400);
      expect(refused.body.code).toBe('validation_failed');
      const written = await database.db
        .selectFrom('users')
        .select('id')
        .where('email', '=', normalizeEmail(refusedEmail))
        .execute();
      expect(written).toEqual([]);
    }
  });

  it('creates an unverified account with an Argon2id hash and sends a verify_email code', async () => {
    const { email, userId, challengeId } = await registerUnverified(gateway);
    const row = await userRow(email);
    expect(row.id).toBe(userId);
    expect(row.email_verified_at).toBeNull();
    expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(row.password_hash).not.toContain(PASSWORD);
    expect(row.registration_challenge_id).toBe(challengeId);

    const secret = await deliveredSecret(gateway, challengeId);
    expect(secret.to).toBe(row.email);
    const challenge = await get(gateway.app, `/v1/otp/challenges/${challengeId}`);
    expect(challenge.body).toMatchObject({ purpose: 'verify_email', channel: 'email', status: 'pending' });
  });

  it('turns the address verified when the verify_email code is verified; the password works from then on', async () => {
    const { email, challengeId } = await registerUnverified(gateway);
    expect((await login(gateway, email)).body.code).toBe('email_not_verified');
    const verified = await verify(gateway, challengeId, await deliveredCode(gateway, challengeId));
    expect(verified.body).toEqual({ outcome: 'verified', verified: true });
    expect((await userRow(email)).email_verified_at).toBeInstanceOf(Date);
    const signedIn = await login(gateway, email);
    expect(signedIn.status).toBe(200);
    expect(signedIn.body.user).toMatchObject({ emailVerified: true });
  });

  it('answers a new, an unverified and a verified address alike: 202 and a challenge id only', async () => {
    const fresh = await register(uniqueEmail('new'));
    const unverified = await registerUnverified(gateway, 'again');
    const again = await register(unverified.email);
    const verifiedUser = await registerUser(gateway, 'taken');
    const taken = await register(verifiedUser.email, 'another password');
    for (const answer of [fresh, again, taken]) {
      expect(answer.status).toBe(202);
      expect(Object.keys(answer.body)).toEqual(['challengeId']);
    }
  });

  it('replaces the password of an unverified account and sends a new code', async () => {
    const first = await registerUnverified(gateway, 'renew');
    const before = await userRow(first.email);
    const again = await register(first.email, 'a different password');
    const after = await userRow(first.email);
    expect(after.id).toBe(before.id);
    expect(after.password_hash).not.toBe(before.password_hash);
    const challengeId = String(again.body.challengeId);
    expect(after.registration_challenge_id).toBe(challengeId);
    expect((await verify(gateway, challengeId, await deliveredCode(gateway, challengeId))).status).toBe(200);
    expect((await login(gateway, first.email, 'a different password')).status).toBe(200);
    expect((await login(gateway, first.email, PASSWORD)).status).toBe(401);
  });

  it('sends an address with a verified account the account-exists email, which no code verifies', async () => {
    const owner = await registerUser(gateway, 'owner');
    const before = await userRow(owner.email);
    const attempt = await register(owner.email, 'attacker password');
    const challengeId = String(attempt.body.challengeId);
    const send = await deliveredSend(gateway, challengeId);
    expect(send.template).toBe('account-exists');
    expect(send.secret).toEqual({ to: before.email });
    // Nothing about the account changed.
    expect(await userRow(owner.email)).toEqual(before);
    expect((await login(gateway, owner.email, 'attacker password')).status).toBe(401);
    // The challenge looks like any other, and refuses codes as any other refuses a wrong one.
    const status = await get(gateway.app, `/v1/otp/challenges/${challengeId}`);
    expect(status.body).toMatchObject({ purpose: 'verify_email', status: 'pending', attemptsRemaining: 5 });
    const wrong = await verify(gateway, challengeId, '000000');
    expect(wrong.status).toBe(400);
    expect(wrong.body).toMatchObject({ code: 'invalid_code', attemptsRemaining: 4 });
    // A resend sends the same message again, still without a code.
    await database.db
      .updateTable('otp_challenges')
      .set({ resend_available_at: new Date(Date.now() - 1000) })
      .where('id', '=', challengeId)
      .execute();
    expect((await post(gateway.app, `/v1/otp/challenges/${challengeId}/resend`)).status).toBe(202);
    expect((await deliveredSend(gateway, challengeId, 2)).template).toBe('account-exists');
    const row = await database.db
      .selectFrom('otp_challenges')
      .select(['code_hashes', 'template'])
      .where('id', '=', challengeId)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ code_hashes: [], template: 'account-exists' });
  });

  it('leaves no account behind when the address cannot take another message', async () => {
    const email = uniqueEmail('full');
    for (let i = 0; i < 3; i++) expect((await requestCode(gateway, { channel: 'email', to: email })).id).toBeTruthy();
    const refused = await register(email);
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe('recipient_rate_limited');
    const rows = await database.db
      .selectFrom('users')
      .select('id')
      .where('email', '=', normalizeEmail(email))
      .execute();
    expect(rows).toEqual([]);
  });

  it('keeps one account when two registrations of one address race', async () => {
    const email = uniqueEmail('race');
    const answers = await Promise.all([1, 2].map(() => register(email)));
    expect(answers.map((answer) => answer.status)).toEqual([202, 202]);
    const rows = await database.db
      .selectFrom('users')
      .select('id')
      .where('email', '=', normalizeEmail(email))
      .execute();
    expect(rows).toHaveLength(1);
  });
});
