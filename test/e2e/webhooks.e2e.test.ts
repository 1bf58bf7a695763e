import { extractCode, startWebhookReceiver, type WebhookReceiver } from '@otp/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type RunningSystem, startSystem, waitForChallenge } from './system.ts';

// Events reach an application's endpoints from the whole system as real processes: the gateway
// and the SMS worker write them to the events outbox, the webhook worker relays and signs them,
// and receivers check every signature with the standardwebhooks package.
describe('webhooks, end to end', () => {
  let system: RunningSystem;
  let all: WebhookReceiver;
  let signIns: WebhookReceiver;
  const secrets = { codes: [] as string[], addresses: [] as string[], tokens: [] as string[] };

  beforeAll(async () => {
    [all, signIns] = await Promise.all([
      startWebhookReceiver({ path: '/all' }),
      startWebhookReceiver({ path: '/sign-ins' }),
    ]);
    system = await startSystem(
      {},
      {},
      {
        webhooks: {
          endpoints: [
            { url: all.url, secret: all.secret, events: ['*'] },
            { url: signIns.url, secret: signIns.secret, events: ['user.signed_in'] },
          ],
        },
      },
    );
  });

  afterAll(async () => {
    const exitCodes = await system?.stop();
    expect(exitCodes).toEqual([0, 0, 0, 0]);
    await Promise.all([all?.close(), signIns?.close()]);
  });

  it('a code sign-in sends user.signed_in, validly signed, with the events around it', async () => {
    const to = `hooks-${Date.now()}@example.com`;
    secrets.addresses.push(to);
    const requested = await api(system, 'POST', '/v1/otp/challenges', { channel: 'email', to });
    expect(requested.status).toBe(202);
    const challengeId = String(requested.body.challengeId);
    const code = extractCode((await system.smtp.waitForMail(to, { timeoutMs: 15_000 })).text);
    secrets.codes.push(code);
    const verified = await api(system, 'POST', `/v1/otp/challenges/${challengeId}/verify`, { code });
    expect(verified.status).toBe(200);
    const tokens = verified.body.tokens as { accessToken: string; refreshToken: string };
    secrets.tokens.push(tokens.accessToken, tokens.refreshToken);
    const userId = String((verified.body.user as { id: string }).id);

    const [signedIn] = await signIns.waitFor((events) => events.length === 1);
    expect(signedIn).toMatchObject({ verified: true, type: 'user.signed_in', data: { userId, method: 'email' } });
    expect(signedIn?.data.sessionId).toEqual(expect.any(String));

    const events = await all.waitFor((received) =>
      ['challenge.requested', 'user.created', 'user.signed_in', 'challenge.verified'].every((type) =>
        received.some((event) => event.type === type),
      ),
    );
    expect(events.every((event) => event.verified)).toBe(true);
    const byType = new Map(events.map((event) => [event.type, event]));
    expect(byType.get('challenge.requested')?.data).toMatchObject({
      challengeId,
      channel: 'email',
      purpose: 'login',
      toMasked: 'h***@example.com',
    });
    expect(byType.get('challenge.verified')?.data).toMatchObject({ challengeId, userId });
    expect(byType.get('user.created')?.data).toMatchObject({ userId, method: 'email' });
    // Every event of one endpoint has its own id; the sign-in's is the same at both endpoints.
    expect(new Set(events.map((event) => event.id)).size).toBe(events.length);
    expect(signedIn?.id).toBe(byType.get('user.signed_in')?.id);

    const signedOut = await api(system, 'POST', '/v1/auth/logout', { refreshToken: tokens.refreshToken });
    expect(signedOut.status).toBe(204);
    const [revoked] = (
      await all.waitFor((received) => received.some((event) => event.type === 'session.revoked'))
    ).filter((event) => event.type === 'session.revoked');
    expect(revoked?.data).toMatchObject({ userId, reason: 'logout', sessionId: signedIn?.data.sessionId });
  });

  it('an SMS the provider refuses for good sends challenge.failed', async () => {
    const to = '+14155550188';
    secrets.addresses.push(to, '4155550188');
    system.twilio.respondNext({ status: 400, code: 21211 });
    const requested = await api(system, 'POST', '/v1/otp/challenges', { channel: 'sms', to });
    expect(requested.status).toBe(202);
    const challengeId = String(requested.body.challengeId);
    await waitForChallenge(system, challengeId, (c) => (c.delivery as { status: string }).status === 'failed');
    const failed = (await all.waitFor((received) => received.some((event) => event.type === 'challenge.failed'))).find(
      (event) => event.type === 'challenge.failed',
    );
    expect(failed).toMatchObject({
      verified: true,
      data: { challengeId, channel: 'sms', purpose: 'login', toMasked: expect.stringMatching(/\*/) },
    });
    expect(failed?.data.errorCode).toEqual(expect.any(String));
  });

  it('no payload holds a code, a full address or a token', () => {
    const bodies = [...all.requests, ...signIns.requests].map((request) => request.body).join('\n');
    expect(bodies.length).toBeGreaterThan(0);
    for (const secret of [...secrets.codes, ...secrets.addresses, ...secrets.tokens]) {
      expect(bodies).not.toContain(secret);
    }
    for (const code of secrets.codes) expect(bodies).not.toMatch(new RegExp(`\\b${code}\\b`));
  });
});
