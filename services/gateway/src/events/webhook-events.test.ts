import { randomBytes } from 'node:crypto';
import { sql } from '@otp/db';
import { maskEmail, normalizeEmail, WEBHOOK_EVENT_NAMES } from '@otp/domain';
import { describe, expect, it } from 'vitest';
import { login, loginTokens, PASSWORD, refresh, registerUser } from '../testing/accounts.ts';
import { adminCall } from '../testing/admin.ts';
import { deliveredCode, deliveredSecret } from '../testing/delivered-code.ts';
import { del, pinClock, totpAt, userWithTotp } from '../testing/factors.ts';
import { requestCode, verify, wrongCode } from '../testing/flows.ts';
import { type GatewayFixture, useTestGateway } from '../testing/gateway.fixture.ts';
import { bearer, post, type TestGateway, uniqueEmail } from '../testing/gateway.harness.ts';
import { callbackPath, postCallback, sentSmsChallenge, statusParams, uniquePhone } from '../testing/twilio-callback.ts';

// Every public webhook event (WEBHOOK_EVENT_TYPES), driven through the real API, lands in the
// events outbox with the change that causes it: its type, the ids and reasons its data carry, and
// nothing a webhook receiver must never see (a code, a full address, a password, a token).

interface OutboxEvent {
  id: string;
  type: string;
  occurred_at: Date;
  data: Record<string, unknown>;
}

/** The outbox's events of a type whose data hold every field of `match`, oldest first. */
async function eventsOf(gateway: TestGateway, type: string, match: Record<string, unknown> = {}) {
  const rows = (await gateway.deps.db
    .selectFrom('event_outbox')
    .select(['id', 'type', 'occurred_at', 'data'])
    .where('type', '=', type)
    .orderBy('occurred_at')
    .execute()) as OutboxEvent[];
  return rows.filter((row) => Object.entries(match).every(([key, value]) => row.data[key] === value));
}

/** The one event of a type whose data match. */
async function eventOf(gateway: TestGateway, type: string, match: Record<string, unknown>) {
  const rows = await eventsOf(gateway, type, match);
  expect(rows, `${type} ${JSON.stringify(match)}`).toHaveLength(1);
  return rows[0] as OutboxEvent;
}

/** No secret appears anywhere in the outbox (every row, as text: the data and the rest). */
async function expectNoSecrets(gateway: TestGateway, secrets: string[]) {
  const rows = await sql<{ text: string }>`SELECT e::text AS text FROM event_outbox e`.execute(gateway.deps.db);
  const all = rows.rows.map((row) => row.text.toLowerCase()).join('\n');
  for (const secret of secrets) expect(all, 'a secret in the events outbox').not.toContain(secret.toLowerCase());
}

async function outboxCount(gateway: TestGateway): Promise<number> {
  const row = await gateway.deps.db
    .selectFrom('event_outbox')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

const authToken = randomBytes(16).toString('hex');

describe('webhook events, written with their change', () => {
  const fixture: GatewayFixture = useTestGateway({
    env: {
      TWILIO_AUTH_TOKEN: authToken,
      FACTOR_LOCKOUT_FAILURES: '3',
      OTP_RECIPIENT_MAX_FAILURES: '3',
      OTP_MAX_ATTEMPTS: '5',
    },
  });
  const { gateway } = fixture;

  it('challenge.requested, challenge.verified, user.created and user.signed_in for a first code sign-in by email', async () => {
    const to = uniqueEmail('first-code');
    const email = normalizeEmail(to);
    const { id, code } = await requestCode(gateway, { channel: 'email', to, purpose: 'login' });
    const requested = await eventOf(gateway, 'challenge.requested', { challengeId: id });
    // Nobody is signed in: the request names no account.
    expect(requested.data).toEqual({
      challengeId: id,
      channel: 'email',
      purpose: 'login',
      template: 'otp-code',
      toMasked: maskEmail(email),
    });

    const signedIn = await verify(gateway, id, code);
    expect(signedIn.status).toBe(200);
    const { refreshToken, accessToken } = signedIn.body.tokens as Record<string, string>;
    const user = await gateway.deps.db
      .selectFrom('users')
      .select('id')
      .where('email', '=', email)
      .executeTakeFirstOrThrow();
    const verified = await eventOf(gateway, 'challenge.verified', { challengeId: id });
    expect(verified.data).toEqual({
      userId: user.id,
      challengeId: id,
      channel: 'email',
      purpose: 'login',
      toMasked: maskEmail(email),
    });
    expect((await eventOf(gateway, 'user.created', { userId: user.id })).data).toMatchObject({
      method: 'email',
      challengeId: id,
    });
    expect((await eventOf(gateway, 'user.signed_in', { userId: user.id })).data).toMatchObject({ method: 'email' });

    // A second code sign-in to the same address finds the account: no second user.created.
    const again = await requestCode(gateway, { channel: 'email', to, purpose: 'login' });
    expect((await verify(gateway, again.id, again.code)).status).toBe(200);
    expect(await eventsOf(gateway, 'user.created', { userId: user.id })).toHaveLength(1);
    expect(await eventsOf(gateway, 'user.signed_in', { userId: user.id })).toHaveLength(2);
    await expectNoSecrets(gateway, [email, code, again.code, refreshToken as string, accessToken as string]);
  });

  it('user.created once when two first code sign-ins to one address race', async () => {
    const to = uniqueEmail('race');
    const first = await requestCode(gateway, { channel: 'email', to, purpose: 'login' });
    const second = await requestCode(gateway, { channel: 'email', to, purpose: 'login' });
    const answers = await Promise.all([verify(gateway, first.id, first.code), verify(gateway, second.id, second.code)]);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
    const users = await gateway.deps.db
      .selectFrom('users')
      .select('id')
      .where('email', '=', normalizeEmail(to))
      .execute();
    expect(users).toHaveLength(1);
    expect(await eventsOf(gateway, 'user.created', { userId: users[0]?.id })).toHaveLength(1);
    expect(await eventsOf(gateway, 'user.signed_in', { userId: users[0]?.id })).toHaveLength(2);
  });

  it('user.created with method sms for a first code sign-in by SMS', async () => {
    const phone = uniquePhone();
    const { id, code } = await requestCode(gateway, { channel: 'sms', to: phone, purpose: 'login' });
    expect((await verify(gateway, id, code)).status).toBe(200);
    const user = await gateway.deps.db
      .selectFrom('users')
      .select('id')
      .where('phone', '=', phone)
      .executeTakeFirstOrThrow();
    expect((await eventOf(gateway, 'user.created', { userId: user.id })).data).toMatchObject({ method: 'sms' });
    expect((await eventOf(gateway, 'challenge.requested', { challengeId: id })).data.toMasked).toMatch(/^\+\*+\d{4}$/);
    await expectNoSecrets(gateway, [phone, phone.slice(1), code]);
  });

  it('user.created with method password for a registration, and user.signed_in for a password sign-in', async () => {
    const { email, userId, challengeId } = await registerUser(gateway, 'hook-reg');
    expect((await eventOf(gateway, 'user.created', { userId })).data).toEqual({
      userId,
      method: 'password',
      challengeId,
    });
    const signedIn = await login(gateway, email);
    expect(signedIn.status).toBe(200);
    const sessionId = (await eventOf(gateway, 'user.signed_in', { userId })).data.sessionId;
    expect(sessionId).toEqual(expect.any(String));
    await expectNoSecrets(gateway, [normalizeEmail(email), PASSWORD]);
  });

  it("challenge.failed once when the carrier reports an SMS undelivered, with Twilio's error code", async () => {
    const { id, sid } = await sentSmsChallenge(gateway);
    const { to } = await deliveredSecret(gateway, id);
    expect(
      (await postCallback(gateway, callbackPath(id), statusParams(sid, 'undelivered', '30003'), authToken)).status,
    ).toBe(204);
    const failed = await eventOf(gateway, 'challenge.failed', { challengeId: id });
    expect(failed.data).toMatchObject({
      channel: 'sms',
      purpose: 'login',
      status: 'undelivered',
      errorCode: 'twilio_30003',
    });
    expect(failed.data.toMasked).toEqual(expect.any(String));
    // Twilio retries the callback, and may follow with `failed`: the event is not sent again.
    await postCallback(gateway, callbackPath(id), statusParams(sid, 'undelivered', '30003'), authToken);
    await postCallback(gateway, callbackPath(id), statusParams(sid, 'failed', '30003'), authToken);
    expect(await eventsOf(gateway, 'challenge.failed', { challengeId: id })).toHaveLength(1);
    // Delivered sends none.
    const other = await sentSmsChallenge(gateway);
    await postCallback(gateway, callbackPath(other.id), statusParams(other.sid, 'delivered'), authToken);
    expect(await eventsOf(gateway, 'challenge.failed', { challengeId: other.id })).toHaveLength(0);
    await expectNoSecrets(gateway, [to, to.slice(1)]);
  });

  it('password.changed (change and reset), session.revoked (logout, one session, all) and refresh_token.reuse_detected', async () => {
    const { email, userId } = await registerUser(gateway, 'hook-sessions');
    const first = await loginTokens(gateway, email);
    const newPassword = `new ${PASSWORD} ${randomBytes(4).toString('hex')}`;
    const changed = await post(
      gateway.app,
      '/v1/me/password',
      { currentPassword: PASSWORD, newPassword },
      bearer(first.accessToken),
    );
    expect(changed.status, String(changed.body.code)).toBeLessThan(300);
    expect((await eventOf(gateway, 'password.changed', { userId, how: 'change' })).data).toMatchObject({ userId });

    // Reset with an emailed code.
    const forgot = await post(gateway.app, '/v1/auth/password/forgot', { email });
    const resetChallenge = String(forgot.body.challengeId);
    const resetCode = await deliveredCode(gateway, resetChallenge);
    const resetPassword = `reset ${PASSWORD} ${randomBytes(4).toString('hex')}`;
    const reset = await post(gateway.app, '/v1/auth/password/reset', {
      challengeId: resetChallenge,
      code: resetCode,
      newPassword: resetPassword,
    });
    expect(reset.status, String(reset.body.code)).toBeLessThan(300);
    expect(await eventsOf(gateway, 'password.changed', { userId, how: 'reset' })).toHaveLength(1);

    const signIn = async () => {
      const answer = await login(gateway, email, resetPassword);
      expect(answer.status).toBe(200);
      return answer.body.tokens as { accessToken: string; refreshToken: string };
    };
    // Logout.
    const a = await signIn();
    expect((await post(gateway.app, '/v1/auth/logout', { refreshToken: a.refreshToken })).status).toBe(204);
    expect(await eventsOf(gateway, 'session.revoked', { userId, reason: 'logout' })).toHaveLength(1);
    // One session ended by the user.
    const b = await signIn();
    const c = await signIn();
    const sessionId = (await eventsOf(gateway, 'user.signed_in', { userId })).at(-2)?.data.sessionId;
    expect((await del(gateway.app, `/v1/me/sessions/${sessionId}`, undefined, bearer(c.accessToken))).status).toBe(204);
    expect((await eventOf(gateway, 'session.revoked', { userId, reason: 'ended_by_user' })).data.sessionId).toBe(
      sessionId,
    );
    // A rotated refresh token presented again.
    const d = await signIn();
    expect((await refresh(gateway, d.refreshToken)).status).toBe(200);
    expect((await refresh(gateway, d.refreshToken)).status).toBe(401);
    expect((await eventOf(gateway, 'refresh_token.reuse_detected', { userId })).data.sessionId).toEqual(
      expect.any(String),
    );
    // Every session.
    expect((await post(gateway.app, '/v1/auth/logout-all', undefined, bearer(c.accessToken))).status).toBe(204);
    expect(
      (await eventOf(gateway, 'session.revoked', { userId, reason: 'all_ended_by_user' })).data.sessionIds,
    ).toEqual(expect.any(Array));
    await expectNoSecrets(gateway, [
      normalizeEmail(email),
      newPassword,
      resetPassword,
      resetCode,
      ...[first, a, b, c, d].flatMap((tokens) => [tokens.accessToken, tokens.refreshToken]),
    ]);
  });

  it('email.changed with the new address masked', async () => {
    const { email, userId } = await registerUser(gateway, 'hook-email');
    const { accessToken } = await loginTokens(gateway, email);
    const next = uniqueEmail('hook-email-next');
    const asked = await post(gateway.app, '/v1/me/email', { email: next }, bearer(accessToken));
    expect(asked.status, String(asked.body.code)).toBe(202);
    const challengeId = String(asked.body.challengeId);
    const code = await deliveredCode(gateway, challengeId);
    expect((await verify(gateway, challengeId, code, bearer(accessToken))).status).toBe(200);
    expect((await eventOf(gateway, 'email.changed', { userId })).data).toMatchObject({
      challengeId,
      emailMasked: maskEmail(normalizeEmail(next)),
    });
    await expectNoSecrets(gateway, [normalizeEmail(email), normalizeEmail(next), code]);
  });

  it('factor.enabled, account.locked (factor_lock) and factor.disabled', async () => {
    const at = pinClock(gateway);
    try {
      const user = await userWithTotp(gateway, at, 'hook-factor');
      expect((await eventOf(gateway, 'factor.enabled', { userId: user.userId })).data).toMatchObject({ kind: 'totp' });
      // The enrolment only begun sends none: one factor.enabled, no factor.disabled yet.
      expect(await eventsOf(gateway, 'factor.disabled', { userId: user.userId })).toHaveLength(0);
      const wrong = totpAt(user.secret, at, 9);
      for (let attempt = 0; attempt < 3; attempt += 1) {
        await post(gateway.app, '/v1/me/totp/validate', { code: wrong }, bearer(user.accessToken));
      }
      expect((await eventOf(gateway, 'account.locked', { userId: user.userId })).data).toMatchObject({
        reason: 'factor_lock',
        failures: 3,
      });
      const removed = await del(
        gateway.app,
        '/v1/me/totp',
        { recoveryCode: user.recoveryCodes[0] as string },
        bearer(user.accessToken),
      );
      expect(removed.status).toBe(204);
      expect((await eventOf(gateway, 'factor.disabled', { userId: user.userId })).data).toMatchObject({ kind: 'totp' });
      await expectNoSecrets(gateway, [user.secret, wrong, ...user.recoveryCodes, normalizeEmail(user.email)]);
    } finally {
      gateway.deps.clock = undefined;
    }
  });

  it('account.locked (code_sign_in_lock) for the wrong code that used up the address, naming the challenge', async () => {
    const to = uniqueEmail('hook-lock');
    const { id, code } = await requestCode(gateway, { channel: 'email', to, purpose: 'login' });
    for (let attempt = 0; attempt < 3; attempt += 1) {
      expect((await verify(gateway, id, wrongCode(code))).status).toBe(400);
    }
    const locked = await eventOf(gateway, 'account.locked', { challengeId: id });
    expect(locked.data).toMatchObject({
      reason: 'code_sign_in_lock',
      channel: 'email',
      purpose: 'login',
      toMasked: maskEmail(normalizeEmail(to)),
      failures: 3,
    });
    // A refused request (the address is locked) rolls back whole: its statement writes no event.
    const before = await outboxCount(gateway);
    const refused = await post(gateway.app, '/v1/otp/challenges', { channel: 'email', to, purpose: 'login' });
    expect(refused.body.code).toBe('recipient_locked');
    expect(await outboxCount(gateway)).toBe(before);
    // A registration of that address is refused with its challenge: no account, no user.created.
    const registration = await post(gateway.app, '/v1/auth/register', { email: to, password: PASSWORD });
    expect(registration.status).toBe(429);
    expect(await outboxCount(gateway)).toBe(before);
    await expectNoSecrets(gateway, [normalizeEmail(to), code, wrongCode(code)]);
  });

  it('user.disabled, session.revoked (operator) and factor.disabled (operator) from the admin API', async () => {
    const at = pinClock(gateway);
    try {
      const user = await userWithTotp(gateway, at, 'hook-admin');
      expect((await adminCall(gateway, 'POST', `/admin/v1/users/${user.userId}/revoke-sessions`)).status).toBe(204);
      expect(await eventsOf(gateway, 'session.revoked', { userId: user.userId, reason: 'operator' })).toHaveLength(1);
      expect((await adminCall(gateway, 'POST', `/admin/v1/users/${user.userId}/reset-factors`)).status).toBe(204);
      expect(await eventsOf(gateway, 'factor.disabled', { userId: user.userId, reason: 'operator' })).toHaveLength(1);
      expect((await adminCall(gateway, 'POST', `/admin/v1/users/${user.userId}/disable`)).status).toBeLessThan(300);
      expect(await eventsOf(gateway, 'user.disabled', { userId: user.userId })).toHaveLength(1);
    } finally {
      gateway.deps.clock = undefined;
    }
  });

  it('user.deleted carries the deleted account id although its audit row is anonymised', async () => {
    const { email, userId } = await registerUser(gateway, 'hook-delete');
    const { accessToken } = await loginTokens(gateway, email);
    const deleted = await del(gateway.app, '/v1/me', {}, bearer(accessToken));
    expect(deleted.status, String(deleted.body.code)).toBe(204);
    expect((await eventOf(gateway, 'user.deleted', { userId })).data).toMatchObject({ by: 'user', sessions: 1 });
    const audit = await gateway.deps.db
      .selectFrom('security_events')
      .select(['user_id'])
      .where('type', '=', 'user.deleted')
      .execute();
    expect(audit.every((row) => row.user_id === null)).toBe(true);

    // By an operator.
    const other = await registerUser(gateway, 'hook-delete-op');
    expect((await adminCall(gateway, 'DELETE', `/admin/v1/users/${other.userId}`)).status).toBeLessThan(300);
    expect((await eventOf(gateway, 'user.deleted', { userId: other.userId })).data).toMatchObject({
      by: 'operator',
    });
    await expectNoSecrets(gateway, [normalizeEmail(email), normalizeEmail(other.email)]);
  });

  it('has written every public type above, each row with an id, a time and data', async () => {
    const rows = await gateway.deps.db.selectFrom('event_outbox').select(['type', 'status']).execute();
    const types = new Set(rows.map((row) => row.type));
    // challenge.failed also comes from the delivery worker (packages/delivery's tests).
    for (const name of WEBHOOK_EVENT_NAMES) expect(types.has(name), name).toBe(true);
    expect(rows.every((row) => row.status === 'pending')).toBe(true);
  });
});

describe('webhook events of a change that rolls back', () => {
  const { gateway } = useTestGateway({ env: { SIGNUP_ENABLED: 'false' } });

  it('a code sign-in refused by sign-up being off writes no challenge.verified and no user.created', async () => {
    const { id, code } = await requestCode(gateway, {
      channel: 'email',
      to: uniqueEmail('no-signup'),
      purpose: 'login',
    });
    const refused = await verify(gateway, id, code);
    expect(refused.body.code).toBe('signup_disabled');
    const types = (await gateway.deps.db.selectFrom('event_outbox').select('type').execute()).map((row) => row.type);
    expect(types).toEqual(['challenge.requested']);
  });
});
