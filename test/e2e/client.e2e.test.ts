import { execFileSync } from 'node:child_process';
import { extractCode } from '@otp/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOtpClient, memoryTokenStore, OtpApiError } from '../../packages/client/src/index.ts';
import { type RunningSystem, startSystem } from './system.ts';

// @otp/client against the whole system as real processes, through every public flow: a code
// sign-in, registration with a password, the MFA step, refresh with rotation (concurrent calls
// sharing one refresh), and re-authentication when a change asks for it. Access tokens live 2 s
// and a change needs a sign-in at most 3 s old, so both happen within the test.
describe('@otp/client, end to end', () => {
  let system: RunningSystem;

  beforeAll(async () => {
    system = await startSystem({ ACCESS_TOKEN_TTL_SECONDS: '2', REAUTH_MAX_AGE_SECONDS: '3' });
  });

  afterAll(async () => {
    await system?.stop();
  });

  const mailCode = async (to: string) => extractCode((await system.smtp.waitForMail(to, { timeoutMs: 15_000 })).text);
  const totp = (secret: string) => execFileSync('oathtool', ['--totp', '-b', secret], { encoding: 'utf8' }).trim();

  it('signs in with an emailed code and calls as the user, refreshing an expired token', async () => {
    const client = createOtpClient({ baseUrl: system.baseUrl, locale: 'de' });
    const to = `client-${Date.now()}@example.com`;
    const requested = await client.codes.request({ channel: 'email', to });
    expect(requested).toMatchObject({ channel: 'email', to: 'c***@example.com' });
    expect((await client.codes.status(requested.challengeId)).status).toBe('pending');

    const result = await client.codes.verify(requested.challengeId, await mailCode(to));
    expect(result.outcome).toBe('signed_in');
    if (result.outcome !== 'signed_in') return;
    expect(result.user.email).toBe(to);
    expect(await client.tokens()).toEqual(result.tokens);
    expect((await client.me()).email).toBe(to);

    // The access token expires; three calls at once share one refresh (rotation), and the session lives on.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const before = await client.tokens();
    const answers = await Promise.all([client.me(), client.me(), client.me()]);
    expect(answers.map((me) => me.email)).toEqual([to, to, to]);
    const after = await client.tokens();
    expect(after?.refreshToken).not.toBe(before?.refreshToken);
    expect((await client.me()).email).toBe(to);

    await client.auth.logout();
    expect(await client.tokens()).toBeUndefined();
    await expect(client.me()).rejects.toMatchObject({ status: 401, code: 'not_signed_in' });
  });

  it('signs in by SMS after a resend, and resets a forgotten password', async () => {
    const client = createOtpClient({ baseUrl: system.baseUrl });
    const to = '+14155550177';
    const requested = await client.codes.request({ channel: 'sms', to });
    await system.twilio.waitForMessage(to, { timeoutMs: 15_000 });
    const resent = await client.codes
      .resend(requested.challengeId)
      .catch((error: unknown) => (error instanceof OtpApiError ? error.code : error));
    // Too soon for a resend: the stable code says so; the first code still works.
    expect(resent).toBe('resend_too_soon');
    const code = extractCode((await system.twilio.waitForMessage(to)).body);
    const result = await client.codes.verify(requested.challengeId, code);
    expect(result).toMatchObject({ outcome: 'signed_in', user: { phone: to, phoneVerified: true } });

    const email = `client-reset-${Date.now()}@example.com`;
    const registered = await client.auth.register({ email, password: 'correct horse battery' });
    await client.codes.verify(registered.challengeId, await mailCode(email));
    system.smtp.messages.length = 0;
    const forgot = await client.api.POST('/v1/auth/password/forgot', { body: { email } });
    expect(forgot.response.status).toBe(202);
    const resetCode = await mailCode(email);
    const reset = await client.api.POST('/v1/auth/password/reset', {
      body: { challengeId: String(forgot.data?.challengeId), code: resetCode, newPassword: 'a brand new passphrase' },
    });
    expect(reset.response.status).toBe(204);
    expect((await client.auth.login(email, 'a brand new passphrase')).outcome).toBe('signed_in');
  });

  it('registers with a password, verifies the address, and answers errors with their stable code', async () => {
    const client = createOtpClient({ baseUrl: system.baseUrl });
    const email = `client-reg-${Date.now()}@example.com`;
    const { challengeId } = await client.auth.register({ email, password: 'correct horse battery' });
    expect(await client.codes.verify(challengeId, await mailCode(email))).toEqual({
      outcome: 'verified',
      verified: true,
    });

    const wrong = await client.auth.login(email, 'not the password').catch((error: unknown) => error);
    expect(wrong).toBeInstanceOf(OtpApiError);
    expect(wrong).toMatchObject({ status: 401, code: 'invalid_credentials' });
    const signedIn = await client.auth.login(email, 'correct horse battery');
    expect(signedIn.outcome).toBe('signed_in');
    expect((await client.me()).emailVerified).toBe(true);
  });

  it('takes the MFA step with a factor or a recovery code', async () => {
    const email = `client-mfa-${Date.now()}@example.com`;
    const password = 'correct horse battery';
    const client = createOtpClient({ baseUrl: system.baseUrl });
    const { challengeId } = await client.auth.register({ email, password });
    await client.codes.verify(challengeId, await mailCode(email));
    await client.auth.login(email, password);

    const enrolment = await client.authenticated(async (headers) => {
      const answer = await client.api.POST('/v1/me/totp', { headers });
      if (answer.error !== undefined) throw new OtpApiError(answer.response.status, answer.error);
      return answer.data;
    });
    const enabled = await client.authenticated(async (headers) => {
      const answer = await client.api.POST('/v1/me/totp/verify', { headers, body: { code: totp(enrolment.secret) } });
      if (answer.error !== undefined) throw new OtpApiError(answer.response.status, answer.error);
      return answer.data;
    });
    const [recoveryCode] = enabled.recoveryCodes ?? [];
    expect(recoveryCode).toEqual(expect.any(String));

    const first = await client.auth.login(email, password);
    expect(first.outcome).toBe('mfa_required');
    if (first.outcome !== 'mfa_required') return;
    expect(first.methods).toEqual(['totp', 'recovery_code']);
    const wrong = await client.auth.mfa(first.mfaToken, { code: '000000' }).catch((error: unknown) => error);
    expect(wrong).toMatchObject({ code: 'invalid_factor_code' });
    const signedIn = await client.auth.mfa(first.mfaToken, { recoveryCode: recoveryCode as string });
    expect(signedIn.outcome).toBe('signed_in');
    expect((await client.me()).factors).toEqual({ totp: true, hotp: false });
  });

  it('signs in again when a change needs a recent sign-in, and retries the change', async () => {
    const email = `client-reauth-${Date.now()}@example.com`;
    const password = 'correct horse battery';
    const asked: string[] = [];
    const client = createOtpClient({
      baseUrl: system.baseUrl,
      tokens: memoryTokenStore(),
      onReauthenticationRequired: async (error) => {
        asked.push(error.code);
        await client.auth.login(email, password);
      },
    });
    const { challengeId } = await client.auth.register({ email, password });
    await client.codes.verify(challengeId, await mailCode(email));
    await client.auth.login(email, password);
    await new Promise((resolve) => setTimeout(resolve, 4500));

    const sent = await client.authenticated(async (headers) => {
      const answer = await client.api.POST('/v1/me/phone', { headers, body: { phone: '+14155550166' } });
      if (answer.error !== undefined) throw new OtpApiError(answer.response.status, answer.error);
      return answer.data;
    });
    expect(asked).toEqual(['reauthentication_required']);
    expect(sent.challengeId).toEqual(expect.any(String));

    // Without the callback the error reaches the caller, with its code.
    const plain = createOtpClient({ baseUrl: system.baseUrl, tokens: memoryTokenStore(await client.tokens()) });
    await new Promise((resolve) => setTimeout(resolve, 4500));
    const refused = await plain
      .authenticated(async (headers) => {
        const answer = await plain.api.POST('/v1/me/phone', { headers, body: { phone: '+14155550167' } });
        if (answer.error !== undefined) throw new OtpApiError(answer.response.status, answer.error);
        return answer.data;
      })
      .catch((error: unknown) => error);
    expect(refused).toMatchObject({ status: 401, code: 'reauthentication_required' });
  });
});
