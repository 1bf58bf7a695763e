import { randomBytes } from 'node:crypto';
import { findChallenge, listDeliveryAttempts } from '@otp/db';
import { type DeliveryFixture, type PreparedTestBed, prepareDeliveryTestBed } from '@otp/delivery/testing';
import { loadCatalogue } from '@otp/messages';
import { extractCode, startTwilioFake, type TestDatabase, type TwilioFake } from '@otp/testkit';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTwilioSender } from './transports/twilio.sender.ts';
import { startWorker } from './worker.ts';

const accountSid = `AC${randomBytes(16).toString('hex')}`;
const authToken = randomBytes(16).toString('hex');
let bed: PreparedTestBed;
let database: TestDatabase;
let fixture: DeliveryFixture;
let twilio: TwilioFake;

beforeAll(async () => {
  bed = await prepareDeliveryTestBed({ channel: 'sms' });
  ({ database, fixture } = bed);
  twilio = await startTwilioFake({ accountSid, authToken });
  const sender = createTwilioSender({
    accountSid,
    authToken,
    from: '+15005550006',
    messagingServiceSid: undefined,
    apiBaseUrl: twilio.baseUrl,
    statusCallbackUrl: 'https://otp.example.com/v1/webhooks/twilio/status',
  });
  await bed.startWorker({ sender }, (deps) =>
    startWorker({
      ...deps,
      appName: 'Acme',
      webOtpDomain: 'otp.example.com',
      catalogue: loadCatalogue({ defaultLocale: 'en' }),
    }),
  );
});

afterAll(async () => {
  await bed?.close();
  await twilio?.close();
});

const smsTo = (number: string) => twilio.messages.filter((sms) => sms.to === number);
const outcomes = async (challengeId: string) =>
  (await listDeliveryAttempts(database.db, challengeId)).map((row) => [row.outcome, row.error_code]);

describe('SMS worker against a Twilio-shaped API, through the twilio SDK', () => {
  it('sends the code SMS, authenticated, ending with the WebOTP line', async () => {
    const challenge = await fixture.seedChallenge({ to: '+14155550100' });
    const outcome = await fixture.finished(await fixture.enqueue(challenge));
    const sms = await twilio.waitForMessage('+14155550100');

    expect(outcome.state).toBe('completed');
    expect(sms).toMatchObject({ accountSid, from: '+15005550006', messagingServiceSid: null });
    expect(extractCode(sms.body)).toBe(challenge.code);
    expect(sms.body.startsWith(`Your Acme code is ${challenge.code}.`)).toBe(true);
    expect(sms.body.endsWith(`\n\n@otp.example.com #${challenge.code}`)).toBe(true);
    const row = await findChallenge(database.db, challenge.id);
    expect(row).toMatchObject({ delivery_status: 'sent', delivery_attempts: 1, delivery_provider_message_id: sms.sid });
    expect(sms.sid).toMatch(/^SM[0-9a-f]{32}$/);
    // Twilio reports the outcome to the gateway at a URL naming this challenge and send.
    expect(sms.statusCallback).toBe(
      `https://otp.example.com/v1/webhooks/twilio/status?challengeId=${challenge.id}&sendNumber=1`,
    );
  });

  it('refuses an account-exists job as an invalid payload: registration is by email only', async () => {
    const challenge = await fixture.seedChallenge({ to: '+14155550110', template: 'account-exists' });
    const requestsBefore = twilio.requests;
    const job = await fixture.enqueue(challenge, { attempts: 3 });
    const outcome = await fixture.finished(job);

    expect(job.data).toMatchObject({ v: 2, channel: 'sms', template: 'account-exists' });
    expect(outcome).toEqual({ state: 'failed', reason: 'invalid_payload' });
    expect((await fixture.queue.getJob(job.id as string))?.attemptsMade).toBe(1);
    expect(twilio.requests).toBe(requestsBefore);
    expect(await listDeliveryAttempts(database.db, challenge.id)).toEqual([]);
  });

  it('waits out a 429 and sends once, the rate limit not using an attempt', async () => {
    const challenge = await fixture.seedChallenge({ to: '+14155550101' });
    twilio.respondNext({ status: 429, retryAfterSeconds: 1 });
    const job = await fixture.enqueue(challenge, { attempts: 1 });
    // The whole queue pauses for the asked second: BullMQ's manual limit (count far above `max`).
    await vi.waitFor(async () => expect(await fixture.queue.getRateLimitTtl(1_000_000)).toBeGreaterThan(0), {
      timeout: 5000,
      interval: 20,
    });
    const outcome = await fixture.finished(job);

    expect(outcome.state).toBe('completed');
    expect(smsTo('+14155550101')).toHaveLength(1);
    expect(await outcomes(challenge.id)).toEqual([
      ['rate_limited', 'twilio_429'],
      ['sent', null],
    ]);
  });

  it('retries a 500 and sends once', async () => {
    const challenge = await fixture.seedChallenge({ to: '+14155550102' });
    twilio.respondNext({ status: 500 });
    const outcome = await fixture.finished(await fixture.enqueue(challenge));

    expect(outcome.state).toBe('completed');
    expect(smsTo('+14155550102')).toHaveLength(1);
    expect(await outcomes(challenge.id)).toEqual([
      ['temporary_failure', 'twilio_5xx'],
      ['sent', null],
    ]);
  });

  it.each([21211, 21610])('fails at once on Twilio error %i, recorded without the number', async (code) => {
    const to = `+1415555${String(code).slice(-4)}`;
    const challenge = await fixture.seedChallenge({ to });
    const requestsBefore = twilio.requests;
    twilio.respondNext({ status: 400, code });
    const outcome = await fixture.finished(await fixture.enqueue(challenge, { attempts: 3 }));

    expect(outcome).toEqual({ state: 'failed', reason: `twilio_${code}` });
    expect(twilio.requests - requestsBefore).toBe(1);
    const [attempt, ...others] = await listDeliveryAttempts(database.db, challenge.id);
    expect(others).toEqual([]);
    expect(attempt).toMatchObject({ outcome: 'permanent_failure', error_code: `twilio_${code}`, provider: 'twilio' });
    expect(attempt?.error_message).toMatch(/^HTTP 400: .*(not a valid phone number|unsubscribed)/);
    expect(attempt?.error_message).not.toContain(to.slice(2));
    expect(await findChallenge(database.db, challenge.id)).toMatchObject({
      status: 'failed',
      delivery_status: 'failed',
      delivery_last_error: `twilio_${code}`,
    });
  });
});
