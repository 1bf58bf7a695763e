import { normalizeEmail } from '@otp/domain';
import { describe, expect, it } from 'vitest';
import { login, loginTokens, refresh, registerUnverified, registerUser } from '../../testing/accounts.ts';
import { deliveredCode, deliveredSend, deliveryJob } from '../../testing/delivered-code.ts';
import { pinClock, totpAt, userWithTotp } from '../../testing/factors.ts';
import { requestCode, resend, verify, wrongCode } from '../../testing/flows.ts';
import { useTestGateway } from '../../testing/gateway.fixture.ts';
import { bearer, get, post, uniqueEmail } from '../../testing/gateway.harness.ts';

const NEW_PASSWORD = 'a brand new passphrase';

describe('password reset by emailed code', () => {
  const { gateway } = useTestGateway();
  const forgot = (email: string) => post(gateway.app, '/v1/auth/password/forgot', { email });
  const reset = (challengeId: string, code: string, newPassword = NEW_PASSWORD) =>
    post(gateway.app, '/v1/auth/password/reset', { challengeId, code, newPassword });
  const forgotCode = async (email: string) => {
    const answer = await forgot(email);
    expect(answer.status).toBe(202);
    const challengeId = String(answer.body.challengeId);
    return { challengeId, code: await deliveredCode(gateway, challengeId) };
  };

  it('answers verified, unverified and unknown addresses alike, with one message each; only the verified gets a code', async () => {
    const verified = await registerUser(gateway, 'forgot-verified');
    const unverified = await registerUnverified(gateway, 'forgot-unverified');
    const unknown = uniqueEmail('forgot-unknown');

    const answers = [];
    for (const email of [verified.email, unverified.email, unknown]) {
      const answer = await forgot(email);
      expect(answer.status).toBe(202);
      expect(Object.keys(answer.body)).toEqual(['challengeId']);
      const challengeId = String(answer.body.challengeId);
      const send = await deliveredSend(gateway, challengeId);
      expect(send.secret.to).toBe(normalizeEmail(email));
      // A password reset's jobs are version 4: workers of the previous release leave them alone.
      const job = await deliveryJob(gateway, challengeId);
      expect(job.data).toMatchObject({ v: 4, purpose: 'reset_password', channel: 'email' });
      // One message per request: no second send was queued.
      expect(await gateway.inspect.email.getJob(`${challengeId}.2`)).toBeUndefined();
      answers.push(send.template);
    }
    expect(answers).toEqual(['otp-code', 'reset-no-account', 'reset-no-account']);
    const requested = await gateway.deps.db
      .selectFrom('security_events')
      .select('details')
      .where('type', '=', 'password.reset_requested')
      .execute();
    expect(requested.map((row) => (row.details as { account: string }).account).sort()).toEqual(
      ['none', 'unverified', 'verified'].sort(),
    );
  });

  it('sets the password, ends every session, sends a notice, and signs no one in', async () => {
    const { email, userId } = await registerUser(gateway, 'reset');
    const first = await loginTokens(gateway, email);
    const second = await loginTokens(gateway, email);
    const { challengeId, code } = await forgotCode(email);

    const answer = await reset(challengeId, code);
    expect(answer.status).toBe(204);
    expect(answer.body).toEqual({});

    for (const session of [first, second]) {
      expect((await get(gateway.app, '/v1/me', bearer(session.accessToken))).status).toBe(401);
      expect((await refresh(gateway, session.refreshToken)).status).toBe(401);
    }
    expect((await login(gateway, email)).body.code).toBe('invalid_credentials');
    expect((await login(gateway, email, NEW_PASSWORD)).status).toBe(200);
    const changed = await gateway.deps.db
      .selectFrom('security_events')
      .select('details')
      .where('type', '=', 'password.changed')
      .where('user_id', '=', userId)
      .execute();
    expect(changed.map((row) => row.details)).toEqual([{ how: 'reset', challengeId, sessionsRevoked: 2 }]);
    const notices = await gateway.deps.db
      .selectFrom('notifications')
      .select('template')
      .where('user_id', '=', userId)
      .where('template', '=', 'password-changed')
      .execute();
    expect(notices).toHaveLength(1);
    // The code is spent.
    expect((await reset(challengeId, code, 'another new passphrase')).body.code).toBe('challenge_used');
  });

  it('keeps the second factor: signing in afterwards still asks for it', async () => {
    const at = pinClock(gateway);
    try {
      const { email, userId, secret } = await userWithTotp(gateway, at, 'reset-mfa');
      const { challengeId, code } = await forgotCode(email);
      expect((await reset(challengeId, code)).status).toBe(204);
      const signIn = await login(gateway, email, NEW_PASSWORD);
      expect(signIn.status).toBe(200);
      expect(signIn.body).toMatchObject({ mfaRequired: true });
      expect(signIn.body.tokens).toBeUndefined();
      const factors = await gateway.deps.db
        .selectFrom('user_factors')
        .select('kind')
        .where('user_id', '=', userId)
        .execute();
      expect(factors).toEqual([{ kind: 'totp' }]);
      const mfa = await post(gateway.app, '/v1/auth/mfa', {
        mfaToken: signIn.body.mfaToken,
        code: totpAt(secret, at),
      });
      expect(mfa.status).toBe(200);
    } finally {
      gateway.deps.clock = undefined;
    }
  });

  it('never signs in with a reset code, and never resets with a sign-in code', async () => {
    const { email } = await registerUser(gateway, 'reset-cross');
    const asked = await post(gateway.app, '/v1/otp/challenges', {
      channel: 'email',
      to: email,
      purpose: 'reset_password',
    });
    expect(asked.status).toBe(400);
    expect(asked.body.code).toBe('validation_failed');

    const { challengeId, code } = await forgotCode(email);
    const signIn = await verify(gateway, challengeId, code);
    expect(signIn.status).toBe(400);
    expect(signIn.body.code).toBe('validation_failed');
    expect(signIn.body.tokens).toBeUndefined();
    // Refused before counting: the code still resets.
    const row = await gateway.deps.db
      .selectFrom('otp_challenges')
      .select('attempt_count')
      .where('id', '=', challengeId)
      .executeTakeFirstOrThrow();
    expect(row.attempt_count).toBe(0);

    const loginCode = await requestCode(gateway, { channel: 'email', to: email, purpose: 'login' });
    const refused = await reset(loginCode.id, loginCode.code);
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('validation_failed');
    expect((await login(gateway, email, NEW_PASSWORD)).body.code).toBe('invalid_credentials');

    expect((await reset(challengeId, code)).status).toBe(204);
  });

  it('counts wrong codes like any code, and a no-account challenge takes none', async () => {
    const { email } = await registerUser(gateway, 'reset-wrong');
    const { challengeId, code } = await forgotCode(email);
    const wrong = await reset(challengeId, wrongCode(code));
    expect(wrong.status).toBe(400);
    expect(wrong.body).toMatchObject({ code: 'invalid_code', attemptsRemaining: expect.any(Number) });

    const unknown = await forgot(uniqueEmail('reset-nobody'));
    const refused = await reset(String(unknown.body.challengeId), code);
    expect(refused.body.code).toBe('invalid_code');
    const madeUp = await reset('7d1f3c2a-5b6e-4f70-8a91-b2c3d4e5f607', code);
    expect(madeUp.status).toBe(404);
    expect(madeUp.body.code).toBe('challenge_not_found');
  });

  it('resends a reset message as it was: a new code for a verified account, still none otherwise', async () => {
    const cooledDown = (id: string) =>
      gateway.deps.db
        .updateTable('otp_challenges')
        .set({ resend_available_at: new Date(Date.now() - 1000) })
        .where('id', '=', id)
        .execute();
    const { email } = await registerUser(gateway, 'reset-resend');
    const { challengeId } = await forgotCode(email);
    await cooledDown(challengeId);
    expect((await resend(gateway, challengeId)).status).toBe(202);
    const second = await deliveredCode(gateway, challengeId, 2);
    expect((await deliveryJob(gateway, challengeId, 2)).data).toMatchObject({ v: 4, purpose: 'reset_password' });
    expect((await get(gateway.app, `/v1/otp/challenges/${challengeId}`)).body).toMatchObject({
      purpose: 'reset_password',
    });

    const unknown = await forgot(uniqueEmail('reset-resend-nobody'));
    const noneId = String(unknown.body.challengeId);
    await cooledDown(noneId);
    expect((await resend(gateway, noneId)).status).toBe(202);
    expect(await deliveredSend(gateway, noneId, 2)).toMatchObject({ template: 'reset-no-account' });
    expect((await deliveryJob(gateway, noneId, 2)).data).toMatchObject({ v: 4 });

    expect((await reset(challengeId, second)).status).toBe(204);
  });

  it('lets exactly one of concurrent resets with the same code win', async () => {
    const { email } = await registerUser(gateway, 'reset-race');
    const { challengeId, code } = await forgotCode(email);
    const answers = await Promise.all(
      ['first racing passphrase', 'second racing passphrase', 'third racing passphrase'].map((password) =>
        reset(challengeId, code, password),
      ),
    );
    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses).toEqual([204, 410, 410]);
    const winner = ['first racing passphrase', 'second racing passphrase', 'third racing passphrase'][
      answers.findIndex((answer) => answer.status === 204)
    ] as string;
    expect((await login(gateway, email, winner)).status).toBe(200);
  });
});
