import { type OtpRecipientWindow, sql } from '@otp/db';
import { describe, expect, it } from 'vitest';
import { loginTokens, registerUser } from '../../testing/accounts.ts';
import { type RequestedChallenge, requestCode, resend, verify, wrongCode } from '../../testing/flows.ts';
import { useTestGateway, useTestReplica } from '../../testing/gateway.fixture.ts';
import { bearer, get, post, type TestGateway, uniqueEmail } from '../../testing/gateway.harness.ts';

// Issue 12: every wrong code for an address, whatever its challenge or purpose, spends one unit of
// the address's failure budget (OTP_RECIPIENT_MAX_FAILURES, default 10, per fixed window of
// OTP_RECIPIENT_FAILURE_WINDOW_SECONDS, default 3600). The last unit's wrong code still answers
// 400; then the address's codes are neither compared nor sent until the window ends.
const env = {
  // As many attempts per challenge as the address has units, so only the address's budget binds.
  OTP_MAX_ATTEMPTS: '10',
  OTP_RECIPIENT_LIMIT: '50',
  OTP_RESEND_COOLDOWN_SECONDS: '0',
  RATE_LIMIT_CODE_REQUESTS_PER_MINUTE: '10000',
  RATE_LIMIT_VERIFICATIONS_PER_MINUTE: '10000',
};
const WINDOW_SECONDS = 3600;

describe("an address's budget of wrong codes", () => {
  const primary = useTestGateway({ env });
  const { gateway, database } = primary;
  // A second replica on the same rows (same keys, same queues), as behind a load balancer.
  const { gateway: replica } = useTestReplica(primary, env);

  let phones = 0;
  const uniquePhone = () => `+1415555${String(1000 + (phones++ % 9000)).padStart(4, '0')}`;

  function challengeFor(to: string, purpose = 'login', on: TestGateway = gateway): Promise<RequestedChallenge> {
    return requestCode(on, { channel: to.startsWith('+') ? 'sms' : 'email', to, purpose });
  }

  async function windowOf(challengeId: string): Promise<OtpRecipientWindow> {
    const rows = await sql<OtpRecipientWindow>`SELECT w.* FROM otp_recipient_windows w
      JOIN otp_challenges c USING (recipient_hash) WHERE c.id = ${challengeId}::uuid`.execute(database.db);
    return rows.rows[0] as OtpRecipientWindow;
  }

  async function events(type: string, challengeIds: string[]): Promise<number> {
    const rows = await database.db
      .selectFrom('security_events')
      .select('id')
      .where('type', '=', type)
      .where(sql<string>`details->>'challengeId'`, 'in', challengeIds)
      .execute();
    return rows.length;
  }

  async function attemptCounts(challengeIds: string[]): Promise<number[]> {
    const rows = await database.db
      .selectFrom('otp_challenges')
      .select(['id', 'attempt_count'])
      .where('id', 'in', challengeIds)
      .execute();
    return challengeIds.map((id) => rows.find((row) => row.id === id)?.attempt_count ?? -1);
  }

  /** Wrong codes for the address until its budget is spent (the 10th still answers 400). */
  async function lockAddress(to: string): Promise<RequestedChallenge[]> {
    const challenges = [await challengeFor(to), await challengeFor(to)];
    for (let i = 0; i < 10; i++) {
      const { id, code } = challenges[i % 2] as RequestedChallenge;
      const wrong = await verify(gateway, id, wrongCode(code));
      expect(wrong.body.code).toBe('invalid_code');
    }
    return challenges;
  }

  function expectLocked(response: { status: number; body: Record<string, unknown>; headers: object }) {
    expect(response.status).toBe(429);
    expect(response.body.code).toBe('recipient_locked');
    const retryAfter = Number((response.headers as Record<string, string>)['retry-after']);
    expect(retryAfter).toBeGreaterThan(WINDOW_SECONDS - 60);
    expect(retryAfter).toBeLessThanOrEqual(WINDOW_SECONDS);
  }

  it('counts wrong codes across challenges and purposes: the 10th answers 400, the 11th 429 recipient_locked', async () => {
    const email = uniqueEmail('budget');
    const challenges = [
      await challengeFor(email, 'login'),
      await challengeFor(email, 'verify_email'),
      await challengeFor(email, 'login'),
      await challengeFor(` ${email.toLowerCase()}`, 'verify_email'),
    ];
    const spread = [3, 3, 3, 1];
    let submitted = 0;
    for (const [index, count] of spread.entries()) {
      const { id, code } = challenges[index] as RequestedChallenge;
      for (let i = 0; i < count; i++) {
        const wrong = await verify(gateway, id, wrongCode(code));
        submitted += 1;
        expect(wrong.status, `wrong code ${submitted}`).toBe(400);
        expect(wrong.body.code).toBe('invalid_code');
      }
    }
    const ids = challenges.map((challenge) => challenge.id);
    const eventsBefore = await database.db.selectFrom('security_events').select('id').execute();

    // The 11th submission, even with the right code, is not compared: nothing counts, nothing is written.
    const [first, , , last] = challenges as [
      RequestedChallenge,
      RequestedChallenge,
      RequestedChallenge,
      RequestedChallenge,
    ];
    expectLocked(await verify(gateway, last.id, last.code));
    expectLocked(await verify(replica, first.id, first.code));
    expect(await attemptCounts(ids)).toEqual(spread);
    expect(await database.db.selectFrom('security_events').select('id').execute()).toHaveLength(eventsBefore.length);
    expect((await get(gateway.app, `/v1/otp/challenges/${last.id}`)).body.status).toBe('pending');

    expect(await events('code.failed', ids)).toBe(10);
    expect(await events('code.recipient_locked', ids)).toBe(1);
    const window = await windowOf(last.id);
    expect(window.failure_count).toBe(10);
    expect(window.failure_window_ends_at?.getTime()).toBeGreaterThan(Date.now() + (WINDOW_SECONDS - 60) * 1000);
  });

  it('compares at most the budget when 30 wrong codes arrive at once, across 3 challenges and 2 replicas', async () => {
    const email = uniqueEmail('flood');
    const challenges = [await challengeFor(email), await challengeFor(email), await challengeFor(email)];
    const responses = await Promise.all(
      Array.from({ length: 30 }, (_, i) => {
        const { id, code } = challenges[i % 3] as RequestedChallenge;
        return verify(i % 2 === 0 ? gateway : replica, id, wrongCode(code));
      }),
    );
    const ids = challenges.map((challenge) => challenge.id);
    const compared = (await attemptCounts(ids)).reduce((sum, count) => sum + count, 0);
    const answers = responses.map((response) => response.body.code);
    expect(compared).toBe(10);
    expect(await events('code.failed', ids)).toBe(10);
    expect(await events('code.recipient_locked', ids)).toBe(1);
    // A challenge that took all ten units answers its tenth with too_many_attempts instead of 400.
    expect(answers.filter((code) => code === 'invalid_code' || code === 'too_many_attempts')).toHaveLength(10);
    expect(answers.filter((code) => code === 'recipient_locked')).toHaveLength(20);
    expect((await windowOf(challenges[0]?.id as string)).failure_count).toBe(10);
  });

  it('is one budget for every replica', async () => {
    const phone = uniquePhone();
    const challenges = [await challengeFor(phone, 'login', gateway), await challengeFor(phone, 'login', replica)];
    for (let i = 1; i <= 10; i++) {
      const { id, code } = challenges[i % 2] as RequestedChallenge;
      const wrong = await verify(i % 2 === 0 ? gateway : replica, id, wrongCode(code));
      expect(wrong.status, `wrong code ${i}`).toBe(400);
    }
    for (const { id, code } of challenges) {
      expectLocked(await verify(gateway, id, code));
      expectLocked(await verify(replica, id, code));
    }
    expectLocked(await post(gateway.app, '/v1/otp/challenges', { channel: 'sms', to: phone }));
    expectLocked(await post(replica.app, '/v1/otp/challenges', { channel: 'sms', to: phone }));
  });

  it('starts again from nothing after a right code', async () => {
    const email = uniqueEmail('reset');
    const [one, two] = [await challengeFor(email), await challengeFor(email)];
    for (let i = 0; i < 9; i++) await verify(gateway, one.id, wrongCode(one.code));
    expect((await windowOf(one.id)).failure_count).toBe(9);
    expect((await verify(gateway, two.id, two.code)).status).toBe(200);
    const window = await windowOf(one.id);
    expect([window.failure_count, window.failure_window_ends_at]).toEqual([0, null]);

    // Ten more wrong codes before the lock: the tenth is still a 400.
    const [three, four] = [await challengeFor(email), await challengeFor(email)];
    for (let i = 0; i < 10; i++) {
      const { id, code } = i % 2 === 0 ? three : four;
      expect((await verify(gateway, id, wrongCode(code))).status, `wrong code ${i + 1}`).toBe(400);
    }
    expectLocked(await verify(gateway, three.id, three.code));
  });

  it('while locked, refuses new challenges and resends with 429 recipient_locked and writes nothing', async () => {
    const email = uniqueEmail('locked');
    const [pending] = await lockAddress(email);
    const tables = ['otp_challenges', 'delivery_outbox', 'security_events'] as const;
    const count = async () =>
      Promise.all(
        tables.map(async (table) => (await database.db.selectFrom(table).select(sql`1`.as('one')).execute()).length),
      );
    const before = { rows: await count(), window: await windowOf(pending?.id as string) };

    expectLocked(await post(gateway.app, '/v1/otp/challenges', { channel: 'email', to: email }));
    expectLocked(
      await post(gateway.app, '/v1/otp/challenges', { channel: 'email', to: email, purpose: 'verify_email' }),
    );
    expectLocked(await resend(replica, pending?.id as string));
    expectLocked(await verify(gateway, pending?.id as string, pending?.code as string));

    expect(await count()).toEqual(before.rows);
    expect(await windowOf(pending?.id as string)).toEqual(before.window);
    const row = await database.db
      .selectFrom('otp_challenges')
      .select(['send_count', 'attempt_count'])
      .where('id', '=', pending?.id as string)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ send_count: 1, attempt_count: 5 });
    // Nothing for the relay to queue.
    await gateway.deps.relay.drainOnce();
    expect(await gateway.inspect.email.getJob(`${pending?.id}.2`)).toBeUndefined();
    // Another address is not affected.
    expect((await post(gateway.app, '/v1/otp/challenges', { channel: 'email', to: uniqueEmail() })).status).toBe(202);
  });

  it('frees the address when the failure window ends; the next wrong code starts a new window', async () => {
    const email = uniqueEmail('freed');
    const [pending] = (await lockAddress(email)) as [RequestedChallenge, RequestedChallenge];
    expectLocked(await verify(gateway, pending.id, pending.code));
    // An hour passes.
    await sql`UPDATE otp_recipient_windows SET failure_window_ends_at = now() - interval '1 second'
      WHERE recipient_hash = (SELECT recipient_hash FROM otp_challenges WHERE id = ${pending.id}::uuid)`.execute(
      database.db,
    );
    expect((await verify(gateway, pending.id, wrongCode(pending.code))).body).toMatchObject({
      code: 'invalid_code',
      attemptsRemaining: 4,
    });
    const window = await windowOf(pending.id);
    expect(window.failure_count).toBe(1);
    expect(window.failure_window_ends_at?.getTime()).toBeGreaterThan(Date.now() + (WINDOW_SECONDS - 60) * 1000);
    expect((await post(gateway.app, '/v1/otp/challenges', { channel: 'email', to: email })).status).toBe(202);
    expect((await verify(gateway, pending.id, pending.code)).status).toBe(200);
  });

  it('shows on GET /v1/me as codeSignInLockedUntil: the later lock of the email and the phone', async () => {
    const { email, userId } = await registerUser(gateway, 'me-lock');
    const phone = uniquePhone();
    await database.db.updateTable('users').set({ phone }).where('id', '=', userId).execute();
    const { accessToken } = await loginTokens(gateway, email);
    const lockedUntil = async () => (await get(gateway.app, '/v1/me', bearer(accessToken))).body.codeSignInLockedUntil;
    expect(await lockedUntil()).toBeNull();

    const [byEmail] = await lockAddress(email);
    const [bySms] = await lockAddress(phone);
    const emailWindow = await windowOf(byEmail?.id as string);
    const smsWindow = await windowOf(bySms?.id as string);
    expect(await lockedUntil()).toBe(smsWindow.failure_window_ends_at?.toISOString());
    // The phone number cannot be sent a verify_phone code while it is locked.
    expectLocked(await post(gateway.app, '/v1/me/phone', { phone }, bearer(accessToken)));

    const setEnd = (window: OtpRecipientWindow, end: string) =>
      sql`UPDATE otp_recipient_windows SET failure_window_ends_at = ${end}::timestamptz
        WHERE recipient_hash = ${window.recipient_hash}`.execute(database.db);
    const later = new Date(Date.now() + 2 * WINDOW_SECONDS * 1000).toISOString();
    await setEnd(emailWindow, later);
    expect(await lockedUntil()).toBe(later);
    await setEnd(emailWindow, new Date(Date.now() - 1000).toISOString());
    expect(await lockedUntil()).toBe(smsWindow.failure_window_ends_at?.toISOString());
    await setEnd(smsWindow, new Date(Date.now() - 1000).toISOString());
    expect(await lockedUntil()).toBeNull();
  });
});
