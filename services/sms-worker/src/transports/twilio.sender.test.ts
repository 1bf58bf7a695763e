import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import type { OutgoingMessage } from '@otp/delivery';
import { deliveryFailure as failure } from '@otp/delivery/testing';
import { startTwilioFake, type TwilioFake } from '@otp/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TwilioSettings } from '../config.ts';
import { createTwilioSender } from './twilio.sender.ts';

const accountSid = `AC${randomBytes(16).toString('hex')}`;
const authToken = randomBytes(16).toString('hex');
let twilio: TwilioFake;
let settings: TwilioSettings;

beforeAll(async () => {
  twilio = await startTwilioFake({ accountSid, authToken });
  settings = {
    accountSid,
    authToken,
    from: '+15005550006',
    messagingServiceSid: undefined,
    apiBaseUrl: twilio.baseUrl,
    statusCallbackUrl: undefined,
  };
});
afterAll(async () => {
  await twilio?.close();
});

const message = (to: string): OutgoingMessage => ({
  channel: 'sms',
  to,
  toMasked: '+*******0000',
  challengeId: '7c3c1c1e-8a55-4b8e-9d8b-0d4c0f3a9b22',
  sendNumber: 1,
  text: 'Your OTP code is 123456.',
});

describe('Twilio sender', () => {
  it('sends through a messaging service when one is configured', async () => {
    const messagingServiceSid = `MG${randomBytes(16).toString('hex')}`;
    const sender = createTwilioSender({ ...settings, from: undefined, messagingServiceSid });
    const result = await sender.send(message('+14155550200'));
    const sms = await twilio.waitForMessage('+14155550200');
    expect(sms).toMatchObject({ messagingServiceSid, from: null, body: 'Your OTP code is 123456.' });
    expect(result.providerMessageId).toBe(sms.sid);
  });

  it('asks for no status callback when none is configured', async () => {
    await createTwilioSender(settings).send(message('+14155550206'));
    expect((await twilio.waitForMessage('+14155550206')).statusCallback).toBeNull();
  });

  it('asks Twilio to report the outcome at the callback URL, naming the challenge and the send', async () => {
    const statusCallbackUrl = 'https://otp.example.com/v1/webhooks/twilio/status';
    const sender = createTwilioSender({ ...settings, statusCallbackUrl });
    await sender.send({ ...message('+14155550207'), sendNumber: 3 });
    const sms = await twilio.waitForMessage('+14155550207');
    expect(sms.statusCallback).toBe(
      `${statusCallbackUrl}?challengeId=7c3c1c1e-8a55-4b8e-9d8b-0d4c0f3a9b22&sendNumber=3`,
    );
  });

  it('passes on the wait a 429 asks for', async () => {
    twilio.respondNext({ status: 429, retryAfterSeconds: 3 });
    const error = await failure(createTwilioSender(settings).send(message('+14155550201')));
    expect(error).toMatchObject({ kind: 'rate_limited', code: 'twilio_429', retryAfterMs: 3000 });
  });

  it('waits one second on a 429 without Retry-After', async () => {
    twilio.respondNext({ status: 429 });
    const error = await failure(createTwilioSender(settings).send(message('+14155550202')));
    expect(error).toMatchObject({ kind: 'rate_limited', retryAfterMs: 1000 });
  });

  it.each([
    [{ status: 400, code: 21408 }, 'permanent', 'twilio_21408'],
    [{ status: 400, code: 21612 }, 'permanent', 'twilio_21612'],
    [{ status: 400, code: 21614 }, 'permanent', 'twilio_21614'],
    [{ status: 404, code: 20404 }, 'permanent', 'twilio_20404'],
    [{ status: 503 }, 'temporary', 'twilio_5xx'],
  ] as const)('classifies %o as %s %s', async (response, kind, code) => {
    twilio.respondNext(response);
    const error = await failure(createTwilioSender(settings).send(message('+14155550203')));
    expect(error).toMatchObject({ kind, code });
  });

  it('treats rejected credentials as a provider authentication failure (our configuration)', async () => {
    const error = await failure(createTwilioSender({ ...settings, authToken: 'wrong' }).send(message('+14155550204')));
    expect(error).toMatchObject({ kind: 'provider_auth', code: 'twilio_20003' });
  });

  it('treats a refused connection as a temporary network failure', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as { port: number };
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const sender = createTwilioSender({ ...settings, apiBaseUrl: `http://127.0.0.1:${port}` });
    const error = await failure(sender.send(message('+14155550205')));
    expect(error).toMatchObject({ kind: 'temporary', code: 'twilio_network' });
  });
});

// What a provider chain needs to know of a failure: whether Twilio certainly did not take the
// message (try the next provider now) or may have (retry Twilio later).
describe('Twilio sender: did Twilio take the message?', () => {
  it.each([
    [{ status: 429 }, 'rate_limited'],
    [{ status: 503 }, 'temporary'],
  ] as const)('an answer of %o without a message: not accepted', async (response, kind) => {
    twilio.respondNext(response);
    const error = await failure(createTwilioSender(settings).send(message('+14155550208')));
    expect(error).toMatchObject({ kind, notAccepted: true });
  });

  it('a refused connection: not accepted', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as { port: number };
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const sender = createTwilioSender({ ...settings, apiBaseUrl: `http://127.0.0.1:${port}` });
    const error = await failure(sender.send(message('+14155550209')));
    expect(error).toMatchObject({ kind: 'temporary', code: 'twilio_network', notAccepted: true });
  });

  it('the connection lost after the whole request was sent: unknown, so not "not accepted"', async () => {
    let received = 0;
    const dropping = createHttpServer((req) => {
      req.resume();
      req.on('end', () => {
        received += 1;
        req.socket.destroy();
      });
    });
    await new Promise<void>((resolve) => dropping.listen(0, '127.0.0.1', resolve));
    const { port } = dropping.address() as { port: number };
    try {
      const sender = createTwilioSender({ ...settings, apiBaseUrl: `http://127.0.0.1:${port}` });
      const error = await failure(sender.send(message('+14155550210')));
      expect(received).toBe(1);
      expect(error).toMatchObject({ kind: 'temporary', code: 'twilio_network', notAccepted: false });
    } finally {
      await new Promise<void>((resolve) => dropping.close(() => resolve()));
    }
  });
});
