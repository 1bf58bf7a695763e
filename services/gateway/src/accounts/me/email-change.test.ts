import { sql } from '@otp/db';
import { isNoticeJobData, type NoticeSecret, normalizeEmail, noticeEnvelopeContext, open } from '@otp/domain';
import { describe, expect, it } from 'vitest';
import { login, loginTokens, PASSWORD, registerUser } from '../../testing/accounts.ts';
import { deliveredSecret } from '../../testing/delivered-code.ts';
import { requestCode, verify } from '../../testing/flows.ts';
import { useTestGateway } from '../../testing/gateway.fixture.ts';
import { bearer, get, post, uniqueEmail } from '../../testing/gateway.harness.ts';

describe('POST /v1/me/email: moving the account to another address', () => {
  const { gateway } = useTestGateway();

  async function signedIn(label: string) {
    const registered = await registerUser(gateway, label);
    const { accessToken } = await loginTokens(gateway, registered.email);
    return { ...registered, accessToken };
  }

  const changeEmail = (accessToken: string, email: string) =>
    post(gateway.app, '/v1/me/email', { email }, bearer(accessToken));

  /** The notices the account's events sent, each opened: template and the address it went to. */
  async function noticesOf(userId: string) {
    const rows = await gateway.deps.db
      .selectFrom('notifications as n')
      .innerJoin('delivery_outbox as o', 'o.notification_id', 'n.id')
      .select(['n.id', 'n.template', 'o.job_data'])
      .where('n.user_id', '=', userId)
      .orderBy('n.created_at')
      .execute();
    return rows.map((row) => {
      if (!isNoticeJobData(row.job_data)) throw new Error('not a notice job');
      const secret = open(gateway.ring, row.job_data.envelope, noticeEnvelopeContext(row.id)) as NoticeSecret;
      return { template: row.template, v: row.job_data.v, to: secret.to, facts: secret.facts };
    });
  }

  it('sends a change_email code to the new address; verifying it moves the account and tells the old address', async () => {
    const user = await signedIn('move-from');
    const next = uniqueEmail('move-to');
    const requested = await changeEmail(user.accessToken, next);
    expect(requested.status).toBe(202);
    expect(requested.body).toMatchObject({ channel: 'email', to: expect.stringMatching(/^m\*\*\*@/) });
    const challengeId = String(requested.body.challengeId);
    const sent = await deliveredSecret(gateway, challengeId);
    expect(sent.to).toBe(normalizeEmail(next));
    const job = await gateway.deps.db
      .selectFrom('delivery_outbox')
      .select('job_data')
      .where('challenge_id', '=', challengeId)
      .executeTakeFirstOrThrow();
    expect(job.job_data).toMatchObject({ v: 5, purpose: 'change_email', template: 'otp-code' });

    // Until the code is verified nothing moves: the old address still signs in.
    expect((await get(gateway.app, '/v1/me', bearer(user.accessToken))).body).toMatchObject({
      email: normalizeEmail(user.email),
    });
    expect((await verify(gateway, challengeId, sent.code)).body).toEqual({ outcome: 'verified', verified: true });
    expect((await get(gateway.app, '/v1/me', bearer(user.accessToken))).body).toMatchObject({
      email: normalizeEmail(next),
      emailVerified: true,
    });

    // The password now goes with the new address only.
    expect((await login(gateway, next, PASSWORD)).status).toBe(200);
    const old = await login(gateway, user.email, PASSWORD);
    expect(old.status).toBe(401);
    expect(old.body.code).toBe('invalid_credentials');

    // One notice, to the old address, naming the new one masked; the event holds no full address.
    const notices = await noticesOf(user.userId);
    const changed = notices.filter((notice) => notice.template === 'email-changed');
    expect(changed).toHaveLength(1);
    expect(changed[0]).toMatchObject({
      v: 5,
      to: normalizeEmail(user.email),
      facts: { emailMasked: 'm***@example.com' },
    });
    const events = await gateway.deps.db
      .selectFrom('security_events')
      .select(['type', 'details'])
      .where('user_id', '=', user.userId)
      .where('type', 'in', ['email.change_requested', 'email.changed'])
      .orderBy('id')
      .execute();
    expect(events.map((event) => event.type)).toEqual(['email.change_requested', 'email.changed']);
    expect(JSON.stringify(events)).not.toContain(normalizeEmail(next));
  });

  it('answers 409 email_taken, naming nobody, when another account holds the address; nothing moves', async () => {
    const holder = await registerUser(gateway, 'holder');
    const user = await signedIn('taker');
    // Accepted like any other address: the answer here never says whether it is taken.
    const requested = await changeEmail(user.accessToken, holder.email);
    expect(requested.status).toBe(202);
    const challengeId = String(requested.body.challengeId);
    const { code } = await deliveredSecret(gateway, challengeId);
    const refused = await verify(gateway, challengeId, code);
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('email_taken');
    expect(JSON.stringify(refused.body)).not.toMatch(/@|[0-9a-f]{8}-[0-9a-f]{4}/);
    expect((await get(gateway.app, '/v1/me', bearer(user.accessToken))).body).toMatchObject({
      email: normalizeEmail(user.email),
    });
    expect((await noticesOf(user.userId)).filter((notice) => notice.template === 'email-changed')).toEqual([]);
  });

  it('answers 409 when the address was taken between the request and the code', async () => {
    const user = await signedIn('raced');
    const next = uniqueEmail('raced-to');
    const requested = await changeEmail(user.accessToken, next);
    const challengeId = String(requested.body.challengeId);
    const { code } = await deliveredSecret(gateway, challengeId);
    // Someone signs in with a code to the address meanwhile: a new account holds it.
    const signIn = await requestCode(gateway, { channel: 'email', to: next });
    expect((await verify(gateway, signIn.id, signIn.code)).status).toBe(200);
    const refused = await verify(gateway, challengeId, code);
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('email_taken');
  });

  it('two accounts proving the same new address at once: one moves, the other gets 409', async () => {
    const next = uniqueEmail('contested');
    const users = await Promise.all([signedIn('contest-a'), signedIn('contest-b')]);
    const codes = await Promise.all(
      users.map(async (user) => {
        const requested = await changeEmail(user.accessToken, next);
        const challengeId = String(requested.body.challengeId);
        return { challengeId, code: (await deliveredSecret(gateway, challengeId)).code };
      }),
    );
    const answers = await Promise.all(codes.map(({ challengeId, code }) => verify(gateway, challengeId, code)));
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 409]);
    const holders = await sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM users WHERE email = ${normalizeEmail(next)}`.execute(gateway.deps.db);
    expect(holders.rows[0]?.n).toBe(1);
  });

  it('is refused as a purpose of POST /v1/otp/challenges, and needs a token, a recent sign-in and a valid address', async () => {
    const direct = await post(gateway.app, '/v1/otp/challenges', {
      channel: 'email',
      to: uniqueEmail('direct'),
      purpose: 'change_email',
    });
    expect(direct.status).toBe(400);
    expect(direct.body.code).toBe('validation_failed');

    expect((await post(gateway.app, '/v1/me/email', { email: uniqueEmail('anon') })).status).toBe(401);
    const user = await signedIn('bad-email');
    const invalid = await changeEmail(user.accessToken, 'not-an-address');
    expect(invalid.status).toBe(400);
    const extra = await post(
      gateway.app,
      '/v1/me/email',
      { email: uniqueEmail('x'), userId: user.userId },
      bearer(user.accessToken),
    );
    expect(extra.status).toBe(400);
    expect(extra.body.code).toBe('validation_failed');

    const maxAge = gateway.deps.config.REAUTH_MAX_AGE_SECONDS;
    gateway.deps.clock = () => new Date(Date.now() + (maxAge + 60) * 1000);
    try {
      const stale = await changeEmail(user.accessToken, uniqueEmail('stale'));
      expect(stale.status).toBe(401);
      expect(stale.body.code).toBe('reauthentication_required');
    } finally {
      gateway.deps.clock = undefined;
    }
    const written = await gateway.deps.db
      .selectFrom('otp_challenges')
      .select('id')
      .where('user_id', '=', user.userId)
      .where('purpose', '=', 'change_email')
      .execute();
    expect(written).toEqual([]);
  });
});
