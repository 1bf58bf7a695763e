import { extractCode } from '@otp/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type RunningSystem, startSystem } from './system.ts';

// Moving an account to another address through real processes: the gateway, the email worker
// (contract version 5: a change_email code and the email-changed notice) and a real SMTP server.
describe('email change, end to end', () => {
  let system: RunningSystem;
  const password = 'the e2e email change password';

  beforeAll(async () => {
    system = await startSystem();
  });

  afterAll(async () => {
    const exitCodes = await system?.stop();
    expect(exitCodes).toEqual([0, 0, 0]);
  });

  it('a code to the new address moves the account; the old address is told, with the new one masked', async () => {
    const stamp = Date.now();
    const email = `before-${stamp}@example.com`;
    const next = `after-${stamp}@example.com`;
    const registered = await api(system, 'POST', '/v1/auth/register', { email, password });
    const registration = await system.smtp.waitForMail(email, { timeoutMs: 15_000 });
    const verified = await api(system, 'POST', `/v1/otp/challenges/${String(registered.body.challengeId)}/verify`, {
      code: extractCode(registration.text),
    });
    expect(verified.status).toBe(200);
    const signedIn = await api(system, 'POST', '/v1/auth/login', { email, password });
    const { accessToken } = signedIn.body.tokens as { accessToken: string };

    let after = system.smtp.messages.length;
    const requested = await api(system, 'POST', '/v1/me/email', { email: next }, accessToken);
    expect(requested.status).toBe(202);
    const codeMail = await system.smtp.waitForMail(next, { timeoutMs: 15_000, after });
    expect(codeMail.subject).toContain('Confirm your new email address');

    after = system.smtp.messages.length;
    const moved = await api(system, 'POST', `/v1/otp/challenges/${String(requested.body.challengeId)}/verify`, {
      code: extractCode(codeMail.text),
    });
    expect(moved.body).toEqual({ outcome: 'verified', verified: true });
    const notice = await system.smtp.waitForMail(email, { timeoutMs: 15_000, after });
    expect(notice.subject).toContain('email address of your');
    expect(notice.text).toContain('a***@example.com');
    expect(notice.text).not.toContain(next);
    expect((await api(system, 'POST', '/v1/auth/login', { email: next, password })).status).toBe(200);
    expect((await api(system, 'POST', '/v1/auth/login', { email, password })).body.code).toBe('invalid_credentials');
  });
});
