import { extractCode } from '@otp/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type RunningSystem, type SystemOptions, startSystem, waitForChallenge } from './system.ts';

/**
 * The whole system as real processes: gateway → Postgres outbox → relay → BullMQ on Redis →
 * email-worker → a real SMTP server / sms-worker → twilio SDK → a Twilio-shaped HTTP server.
 * sign-in.e2e.test.ts runs it as it is; test/pgbouncer runs it through a PgBouncer (`options`,
 * with `everyServiceEnv` for every service).
 */
export function describeSignIn(
  title: string,
  options: SystemOptions & { everyServiceEnv?: Record<string, string> } = {},
): void {
  describe(title, () => {
    signInScenario(() => startSystem({}, options.everyServiceEnv, options));
  });
}

function signInScenario(start: () => Promise<RunningSystem>): void {
  let system: RunningSystem;
  const seen = { codes: [] as string[], addresses: [] as string[] };

  beforeAll(async () => {
    system = await start();
  });

  afterAll(async () => {
    const exitCodes = await system?.stop();
    // Graceful shutdown on SIGTERM: every service exits 0.
    expect(exitCodes).toEqual([0, 0, 0]);
  });

  it('signs in with a code sent by email', async () => {
    const to = `e2e-${Date.now()}@example.com`;
    seen.addresses.push(to);
    const requested = await api(system, 'POST', '/v1/otp/challenges', { channel: 'email', to });
    expect(requested.status).toBe(202);
    expect(requested.body.to).toBe('e***@example.com');
    const challengeId = String(requested.body.challengeId);

    const mail = await system.smtp.waitForMail(to, { timeoutMs: 15_000 });
    const code = extractCode(mail.text);
    seen.codes.push(code);
    expect(mail.html).toContain(code);

    const status = await waitForChallenge(
      system,
      challengeId,
      (c) => (c.delivery as { status: string }).status === 'sent',
    );
    expect(status).toMatchObject({ status: 'pending', delivery: { status: 'sent', attempts: 1 } });

    const verified = await api(system, 'POST', `/v1/otp/challenges/${challengeId}/verify`, { code });
    expect(verified.status).toBe(200);
    const tokens = verified.body.tokens as { accessToken: string; tokenType: string };
    expect(tokens.tokenType).toBe('Bearer');

    const me = await api(system, 'GET', '/v1/me', undefined, tokens.accessToken);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ email: to, emailVerified: true, phone: null });
  });

  it('signs in with a code sent by SMS through the twilio SDK', async () => {
    const to = '+14155550123';
    seen.addresses.push(to, '4155550123');
    const requested = await api(system, 'POST', '/v1/otp/challenges', { channel: 'sms', to: '+1 415 555 0123' });
    expect(requested.status).toBe(202);
    const challengeId = String(requested.body.challengeId);

    const sms = await system.twilio.waitForMessage(to, { timeoutMs: 15_000 });
    const code = extractCode(sms.body);
    seen.codes.push(code);
    expect(sms.body.trim().endsWith(`@otp.example.com #${code}`)).toBe(true);

    const verified = await api(system, 'POST', `/v1/otp/challenges/${challengeId}/verify`, { code });
    expect(verified.status).toBe(200);
    const me = await api(
      system,
      'GET',
      '/v1/me',
      undefined,
      (verified.body.tokens as { accessToken: string }).accessToken,
    );
    expect(me.body).toMatchObject({ phone: to, phoneVerified: true });

    // The provider's signed delivery report (Twilio's status callback) reaches the gateway.
    const reported = await waitForChallenge(
      system,
      challengeId,
      (c) => (c.delivery as { status: string }).status === 'delivered',
    );
    expect(reported.delivery).toMatchObject({ status: 'delivered', attempts: 1 });
    expect(system.twilio.callbacks.find((callback) => callback.sid === sms.sid)).toMatchObject({ httpStatus: 204 });
  });

  it('retries a temporary SMTP failure and delivers once', async () => {
    const to = `retry-${Date.now()}@example.com`;
    seen.addresses.push(to);
    system.smtp.failNext(1, 451);
    const requested = await api(system, 'POST', '/v1/otp/challenges', { channel: 'email', to });
    const challengeId = String(requested.body.challengeId);
    const mail = await system.smtp.waitForMail(to, { timeoutMs: 15_000 });
    seen.codes.push(extractCode(mail.text));
    const status = await waitForChallenge(
      system,
      challengeId,
      (c) => (c.delivery as { status: string }).status === 'sent',
    );
    expect((status.delivery as { attempts: number }).attempts).toBe(2);
    expect(system.smtp.messages.filter((m) => m.to.includes(to))).toHaveLength(1);
  });

  it('fails at once on an invalid number reported by Twilio (21211)', async () => {
    system.twilio.respondNext({ status: 400, code: 21211 });
    const requested = await api(system, 'POST', '/v1/otp/challenges', { channel: 'sms', to: '+14155550124' });
    seen.addresses.push('+14155550124');
    const challengeId = String(requested.body.challengeId);
    const status = await waitForChallenge(system, challengeId, (c) => c.status === 'failed');
    expect(status.delivery).toMatchObject({ status: 'failed', attempts: 1, lastError: 'twilio_21211' });
    const verify = await api(system, 'POST', `/v1/otp/challenges/${challengeId}/verify`, { code: '000000' });
    expect(verify.body.code).toBe('challenge_failed');
  });

  it('never writes a code or a full address in any service log', () => {
    const logs = system.logs().join('\n');
    expect(logs.length).toBeGreaterThan(0);
    for (const code of seen.codes) expect(logs).not.toMatch(new RegExp(`\\b${code}\\b`));
    for (const address of seen.addresses) expect(logs).not.toContain(address);
  });
}
