import { extractCode } from '@otp/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type RunningSystem, startSystem } from './system.ts';

// A password reset through real processes: the gateway, the email worker and a real SMTP server.
describe('password reset, end to end', () => {
  let system: RunningSystem;
  const password = 'the first e2e password';
  const newPassword = 'the password after the reset';

  beforeAll(async () => {
    system = await startSystem();
  });

  afterAll(async () => {
    const exitCodes = await system?.stop();
    expect(exitCodes).toEqual([0, 0, 0]);
  });

  it('forgot, the code from the inbox, reset, then sign in with the new password; an unknown address answered alike', async () => {
    const email = `reset-${Date.now()}@example.com`;
    const registered = await api(system, 'POST', '/v1/auth/register', { email, password });
    const registration = await system.smtp.waitForMail(email, { timeoutMs: 15_000 });
    const verified = await api(system, 'POST', `/v1/otp/challenges/${String(registered.body.challengeId)}/verify`, {
      code: extractCode(registration.text),
    });
    expect(verified.status).toBe(200);

    let after = system.smtp.messages.length;
    const forgot = await api(system, 'POST', '/v1/auth/password/forgot', { email });
    expect(forgot.status).toBe(202);
    expect(Object.keys(forgot.body)).toEqual(['challengeId']);
    const resetMail = await system.smtp.waitForMail(email, { timeoutMs: 15_000, after });
    expect(resetMail.subject).toContain('password reset code');
    const code = extractCode(resetMail.text);

    after = system.smtp.messages.length;
    const reset = await api(system, 'POST', '/v1/auth/password/reset', {
      challengeId: String(forgot.body.challengeId),
      code,
      newPassword,
    });
    expect(reset.status).toBe(204);
    expect((await api(system, 'POST', '/v1/auth/login', { email, password })).body.code).toBe('invalid_credentials');
    const signedIn = await api(system, 'POST', '/v1/auth/login', { email, password: newPassword });
    expect(signedIn.status).toBe(200);
    expect(signedIn.body.tokens).toBeDefined();
    const notice = await system.smtp.waitForMail(email, { timeoutMs: 15_000, after });
    expect(notice.subject).toContain('password');
    expect(notice.text).toContain('The password was reset');

    const unknown = `nobody-${Date.now()}@example.com`;
    after = system.smtp.messages.length;
    const refused = await api(system, 'POST', '/v1/auth/password/forgot', { email: unknown });
    expect(refused.status).toBe(202);
    expect(Object.keys(refused.body)).toEqual(['challengeId']);
    const noAccount = await system.smtp.waitForMail(unknown, { timeoutMs: 15_000, after });
    expect(noAccount.text).toContain('no password to reset');
    expect(noAccount.text).not.toMatch(/\d{6}/);
  });
});
