import { extractCode, startWebhookReceiver, type WebhookReceiver } from '@otp/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type RunningSystem, startSystem } from '../e2e/system.ts';

// An application's endpoint is down for a minute while people sign in. The webhook worker runs
// with its production retry schedule (5 s, 30 s, 2 min, ...): when the endpoint is back, every
// event of that minute reaches it, each under the webhook-id it was first tried with, each once.
const OUTAGE_MS = 60_000;
const EVENTS_PER_SIGN_IN = ['challenge.requested', 'user.created', 'user.signed_in', 'challenge.verified'];

describe('a webhook receiver down for a minute', () => {
  let system: RunningSystem;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    system = await startSystem(
      {},
      {},
      { webhooks: { endpoints: [{ url: receiver.url, secret: receiver.secret, events: ['*'] }] } },
    );
  });

  afterAll(async () => {
    await system?.stop();
    await receiver?.close();
  });

  it('gets every event of the minute afterwards, once each, validly signed', async () => {
    await receiver.stop();
    const down = Date.now();
    const signedIn: string[] = [];
    let sequence = 0;
    while (Date.now() - down < OUTAGE_MS - 5000) {
      sequence += 1;
      const to = `outage-${sequence}-${Date.now()}@example.com`;
      const requested = await api(system, 'POST', '/v1/otp/challenges', { channel: 'email', to });
      expect(requested.status).toBe(202);
      const code = extractCode((await system.smtp.waitForMail(to, { timeoutMs: 15_000 })).text);
      const verified = await api(system, 'POST', `/v1/otp/challenges/${requested.body.challengeId}/verify`, { code });
      expect(verified.status).toBe(200);
      signedIn.push(String((verified.body.user as { id: string }).id));
      await new Promise((resolve) => setTimeout(resolve, 4000));
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, OUTAGE_MS - (Date.now() - down))));
    expect(receiver.requests).toHaveLength(0);
    await receiver.start();
    const back = Date.now();

    const expected = signedIn.length * EVENTS_PER_SIGN_IN.length;
    const events = await receiver.waitFor((received) => received.length >= expected, 240_000);
    const caughtUpSeconds = Math.round((Date.now() - back) / 1000);
    for (const userId of signedIn) {
      const mine = events.filter((event) => event.data.userId === userId).map((event) => event.type);
      expect(mine.sort(), userId).toEqual(['challenge.verified', 'user.created', 'user.signed_in']);
    }
    expect(events.filter((event) => event.type === 'challenge.requested')).toHaveLength(signedIn.length);
    expect(events.every((event) => event.verified)).toBe(true);
    // Once each: no event answered 2xx twice, and every retry carried its first attempt's body.
    const answered = receiver.requests.filter((request) => request.status < 300);
    expect(answered).toHaveLength(events.length);
    const bodies = new Map<string, Set<string>>();
    for (const request of receiver.requests)
      bodies.set(request.id, (bodies.get(request.id) ?? new Set()).add(request.body));
    expect([...bodies.values()].every((set) => set.size === 1)).toBe(true);
    console.log(
      `[webhook outage] ${JSON.stringify({ signIns: signedIn.length, events: events.length, requests: receiver.requests.length, caughtUpSeconds })}`,
    );
  });
});
