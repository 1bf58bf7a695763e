import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { resend } from '../../testing/flows.ts';
import { useTestGateway } from '../../testing/gateway.fixture.ts';
import {
  callbackPath,
  deliveryOf,
  messageSid,
  postCallback,
  recordSent,
  sentSmsChallenge,
  statusParams,
} from '../../testing/twilio-callback.ts';

// Twilio's status callback moves a sent SMS to its final delivery status, for the latest send
// and the very message the worker recorded only.

const authToken = randomBytes(16).toString('hex');
const { gateway } = useTestGateway({
  env: { TWILIO_AUTH_TOKEN: authToken, OTP_RESEND_COOLDOWN_SECONDS: '0' },
});

const report = (id: string, sid: string, status: string, errorCode?: string, sendNumber = 1) =>
  postCallback(gateway, callbackPath(id, sendNumber), statusParams(sid, status, errorCode), authToken);

describe("Twilio's status callback", () => {
  it('moves a sent SMS to delivered', async () => {
    const { id, sid } = await sentSmsChallenge(gateway);
    expect((await deliveryOf(gateway, id)).delivery.status).toBe('sent');

    const response = await report(id, sid, 'delivered');

    expect(response.status).toBe(204);
    const challenge = await deliveryOf(gateway, id);
    expect(challenge.delivery.status).toBe('delivered');
    expect(challenge.delivery).not.toHaveProperty('lastError');
    expect(challenge.status).toBe('pending');
  });

  it("records undelivered with Twilio's error code, leaving the challenge open for a resend", async () => {
    const { id, sid } = await sentSmsChallenge(gateway);

    expect((await report(id, sid, 'undelivered', '30003')).status).toBe(204);

    const challenge = await deliveryOf(gateway, id);
    expect(challenge.delivery).toMatchObject({ status: 'undelivered', lastError: 'twilio_30003' });
    expect(challenge.status).toBe('pending');
  });

  it('records failed, without a last error when Twilio names no code', async () => {
    const { id, sid } = await sentSmsChallenge(gateway);

    expect((await report(id, sid, 'failed')).status).toBe(204);

    const challenge = await deliveryOf(gateway, id);
    expect(challenge.delivery.status).toBe('failed');
    expect(challenge.delivery).not.toHaveProperty('lastError');
  });

  it.each(['queued', 'sending', 'sent', 'accepted', 'read', 'something-new'])(
    'ignores the non-final status %s (204, no change)',
    async (status) => {
      const { id, sid } = await sentSmsChallenge(gateway);
      const before = await deliveryOf(gateway, id);

      expect((await report(id, sid, status)).status).toBe(204);

      expect(await deliveryOf(gateway, id)).toEqual(before);
    },
  );

  it('never turns delivered into anything else (reports arrive out of order)', async () => {
    const { id, sid } = await sentSmsChallenge(gateway);
    await report(id, sid, 'delivered');
    const delivered = await deliveryOf(gateway, id);

    expect((await report(id, sid, 'undelivered', '30005')).status).toBe(204);
    expect((await report(id, sid, 'failed', '30008')).status).toBe(204);

    expect(await deliveryOf(gateway, id)).toEqual(delivered);
  });

  it('ignores a report about another message of the same send', async () => {
    const { id } = await sentSmsChallenge(gateway);
    const before = await deliveryOf(gateway, id);

    expect((await report(id, messageSid(), 'undelivered', '30003')).status).toBe(204);

    expect(await deliveryOf(gateway, id)).toEqual(before);
  });

  it('ignores a late report about an older send once the challenge was resent', async () => {
    const { id, sid: firstSid } = await sentSmsChallenge(gateway);
    expect((await resend(gateway, id)).status).toBe(202);
    const secondSid = messageSid();
    await recordSent(gateway, id, 2, secondSid);
    const before = await deliveryOf(gateway, id);

    expect((await report(id, firstSid, 'undelivered', '30003', 1)).status).toBe(204);
    // The old message id under the new send number is no match either.
    expect((await report(id, firstSid, 'undelivered', '30003', 2)).status).toBe(204);
    expect(await deliveryOf(gateway, id)).toEqual(before);

    expect((await report(id, secondSid, 'delivered', undefined, 2)).status).toBe(204);
    expect((await deliveryOf(gateway, id)).delivery.status).toBe('delivered');
  });

  it('answers 204 for an unknown challenge, changing nothing', async () => {
    const unknown = '0b6f3c52-3a4c-4d0e-9a51-3f5b8f9a1c11';
    expect((await report(unknown, messageSid(), 'delivered')).status).toBe(204);
  });

  it('refuses a signed report whose body lacks the message id (400, not 500)', async () => {
    const { id, sid } = await sentSmsChallenge(gateway);
    const { MessageSid: _omitted, ...params } = statusParams(sid, 'delivered');

    const response = await postCallback(gateway, callbackPath(id), params, authToken);

    expect(response.status).toBe(400);
    expect(response.body.code).toBe('validation_failed');
    expect((await deliveryOf(gateway, id)).delivery.status).toBe('sent');
  });
});
