import { extractCode } from '@otp/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type RunningSystem, startSystem } from './system.ts';

interface Tokens {
  accessToken: string;
  refreshToken: string;
}

// Accounts through real processes: the verify_email code of a registration arrives at a real
// SMTP server, the verify_phone code at the Twilio-shaped server.
describe('accounts and sessions, end to end', () => {
  let system: RunningSystem;
  const password = 'an e2e password, long enough';
  const seen: string[] = [password];

  beforeAll(async () => {
    system = await startSystem();
  });

  afterAll(async () => {
    const exitCodes = await system?.stop();
    expect(exitCodes).toEqual([0, 0, 0]);
  });

  it('registers, verifies the email from the inbox, signs in, rotates, detects reuse and logs out', async () => {
    const email = `register-${Date.now()}@example.com`;
    const registered = await api(system, 'POST', '/v1/auth/register', { email, password });
    expect(registered.status).toBe(202);
    expect(Object.keys(registered.body)).toEqual(['challengeId']);
    // Not before the address is verified.
    expect((await api(system, 'POST', '/v1/auth/login', { email, password })).body.code).toBe('email_not_verified');

    const mail = await system.smtp.waitForMail(email, { timeoutMs: 15_000 });
    const code = extractCode(mail.text);
    seen.push(code);
    const verified = await api(system, 'POST', `/v1/otp/challenges/${String(registered.body.challengeId)}/verify`, {
      code,
    });
    expect(verified.body).toEqual({ outcome: 'verified', verified: true });

    const signedIn = await api(system, 'POST', '/v1/auth/login', { email, password });
    expect(signedIn.status).toBe(200);
    const first = signedIn.body.tokens as Tokens;
    seen.push(first.refreshToken, first.accessToken);
    expect((await api(system, 'GET', '/v1/me', undefined, first.accessToken)).body).toMatchObject({
      email,
      emailVerified: true,
    });

    const rotated = await api(system, 'POST', '/v1/auth/refresh', { refreshToken: first.refreshToken });
    expect(rotated.status).toBe(200);
    const second = (rotated.body as unknown as { tokens: Tokens }).tokens;
    seen.push(second.refreshToken);
    expect((await api(system, 'POST', '/v1/auth/refresh', { refreshToken: first.refreshToken })).status).toBe(401);
    expect((await api(system, 'POST', '/v1/auth/refresh', { refreshToken: second.refreshToken })).status).toBe(401);

    const again = (await api(system, 'POST', '/v1/auth/login', { email, password })).body.tokens as Tokens;
    seen.push(again.refreshToken);
    expect((await api(system, 'POST', '/v1/auth/logout', { refreshToken: again.refreshToken })).status).toBe(204);
    expect((await api(system, 'POST', '/v1/auth/refresh', { refreshToken: again.refreshToken })).status).toBe(401);
  });

  it('verifies a phone number with the code from the SMS', async () => {
    const email = `phone-${Date.now()}@example.com`;
    const registered = await api(system, 'POST', '/v1/auth/register', { email, password });
    expect(registered.status).toBe(202);
    const mail = await system.smtp.waitForMail(email, { timeoutMs: 15_000 });
    const emailCode = extractCode(mail.text);
    seen.push(emailCode);
    const challengeId = String(registered.body.challengeId);
    expect((await api(system, 'POST', `/v1/otp/challenges/${challengeId}/verify`, { code: emailCode })).status).toBe(
      200,
    );
    const { accessToken } = (await api(system, 'POST', '/v1/auth/login', { email, password })).body.tokens as Tokens;
    const to = '+14155550177';
    const requested = await api(system, 'POST', '/v1/me/phone', { phone: to }, accessToken);
    expect(requested.status).toBe(202);
    const sms = await system.twilio.waitForMessage(to, { timeoutMs: 15_000 });
    const code = extractCode(sms.body);
    seen.push(code);
    const verified = await api(system, 'POST', `/v1/otp/challenges/${String(requested.body.challengeId)}/verify`, {
      code,
    });
    expect(verified.body).toEqual({ outcome: 'verified', verified: true });
    expect((await api(system, 'GET', '/v1/me', undefined, accessToken)).body).toMatchObject({
      phone: to,
      phoneVerified: true,
    });
  });

  it('never writes a password, code or token in any service log', () => {
    const logs = system.logs().join('\n');
    expect(logs).toContain('sign_in.succeeded');
    for (const secret of seen) expect(logs).not.toContain(secret);
  });
});
