import { randomBytes } from 'node:crypto';
import { findChallenge, listDeliveryAttempts, setKillSwitch, sql } from '@otp/db';
import type { DeliveryWorker } from '@otp/delivery';
import { type DeliveryFixture, type PreparedTestBed, prepareDeliveryTestBed } from '@otp/delivery/testing';
import { loadCatalogue } from '@otp/messages';
import { createMetricsRegistry, type Registry } from '@otp/runtime';
import { parseExposition, sampleValue, startTwilioFake, type TestDatabase, type TwilioFake } from '@otp/testkit';
import type { Job } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTwilioSender } from './transports/twilio.sender.ts';
import { startWorker } from './worker.ts';

// A switched-off channel, country or provider stops spending in the workers too: SMS already in
// the queue wait, without using an attempt, and go out once the switch is on again, unless their
// code expired meanwhile. Real Postgres and Redis, the real Twilio sender against a Twilio-shaped API.
const accountSid = `AC${randomBytes(16).toString('hex')}`;
const authToken = randomBytes(16).toString('hex');
const GB = '+447400123456';
const FR = '+33612345678';
let bed: PreparedTestBed;
let database: TestDatabase;
let fixture: DeliveryFixture;
let twilio: TwilioFake;
let worker: DeliveryWorker;
let registry: Registry;

beforeAll(async () => {
  bed = await prepareDeliveryTestBed({ channel: 'sms' });
  ({ database, fixture } = bed);
  twilio = await startTwilioFake({ accountSid, authToken });
  registry = createMetricsRegistry('sms-worker');
  const sender = createTwilioSender({
    accountSid,
    authToken,
    from: '+15005550006',
    messagingServiceSid: undefined,
    apiBaseUrl: twilio.baseUrl,
    statusCallbackUrl: undefined,
  });
  worker = await bed.startWorker(
    { sender, metricsRegistry: registry, killSwitchRefreshMs: 100, killSwitchHoldMs: 300 },
    (deps) =>
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

afterEach(async () => {
  await sql`UPDATE kill_switches SET off = false`.execute(database.db);
  await worker.killSwitches.refresh();
});

/** Processings that ended held by a kill switch so far, as the worker's /metrics shows them. */
async function held(): Promise<number> {
  return sampleValue(parseExposition(await registry.metrics()), 'otp_sends_total', { outcome: 'held' });
}

/**
 * Queues an SMS while the queue is paused, then switches `target` off (as the operator's command
 * does) and resumes the queue: the job was waiting before the switch.
 */
async function queuedThenSwitchedOff(to: string, target: string, expiresInMs?: number) {
  await fixture.queue.pause();
  const challenge = await fixture.seedChallenge({ to, ...(expiresInMs === undefined ? {} : { expiresInMs }) });
  // One attempt only: a hold that used one up would fail the job.
  const job = await fixture.enqueue(challenge, { attempts: 1 });
  await setKillSwitch(database.db, target, true, 'test-operator');
  await worker.killSwitches.refresh();
  await fixture.queue.resume();
  return { challenge, job };
}

/** Waits until the worker has held jobs `times` more times than `before`: taken, held, taken again... */
async function heldAgain(before: number, times = 2): Promise<void> {
  await vi.waitFor(async () => expect(await held()).toBeGreaterThanOrEqual(before + times), {
    timeout: 10_000,
    interval: 20,
  });
}

async function switchOn(target: string): Promise<void> {
  await setKillSwitch(database.db, target, false, 'test-operator');
  await worker.killSwitches.refresh();
}

async function unsent(challengeId: string, job: Job, to: string): Promise<void> {
  expect(twilio.messages.filter((sms) => sms.to === to)).toEqual([]);
  expect(await listDeliveryAttempts(database.db, challengeId)).toEqual([]);
  expect(await findChallenge(database.db, challengeId)).toMatchObject({ delivery_status: 'queued' });
  expect((await fixture.queue.getJob(job.id as string))?.attemptsMade).toBe(0);
}

describe('SMS jobs while a kill switch is off', () => {
  it('sms off: the queued SMS waits (the queue pauses), then goes out once on, its attempt unused', async () => {
    const before = await held();
    const { challenge, job } = await queuedThenSwitchedOff(GB, 'sms');
    await heldAgain(before);
    await unsent(challenge.id, job, GB);
    // The whole queue waits out the hold, not each job in turn.
    await vi.waitFor(async () => expect(await fixture.queue.getRateLimitTtl(1_000_000)).toBeGreaterThan(0), {
      timeout: 5000,
      interval: 20,
    });

    await switchOn('sms');
    expect(await fixture.finished(job)).toMatchObject({ state: 'completed' });
    expect(await twilio.waitForMessage(GB)).toMatchObject({ to: GB });
    expect((await listDeliveryAttempts(database.db, challenge.id)).map((row) => row.outcome)).toEqual(['sent']);
  });

  it('provider:twilio off holds the SMS of a Twilio worker the same way', async () => {
    const before = await held();
    const to = '+447400123457';
    const { challenge, job } = await queuedThenSwitchedOff(to, 'provider:twilio');
    await heldAgain(before);
    await unsent(challenge.id, job, to);

    await switchOn('provider:twilio');
    expect(await fixture.finished(job)).toMatchObject({ state: 'completed' });
    expect(await twilio.waitForMessage(to)).toMatchObject({ to });
  });

  it('country:GB off holds SMS to GB numbers alone; others go out meanwhile', async () => {
    const before = await held();
    const { challenge, job } = await queuedThenSwitchedOff('+447400123458', 'country:GB');
    await heldAgain(before);
    // That job alone waits, delayed.
    await vi.waitFor(async () => expect(await job.getState()).toBe('delayed'), { timeout: 5000, interval: 20 });
    const france = await fixture.seedChallenge({ to: FR });
    expect(await fixture.finished(await fixture.enqueue(france))).toMatchObject({ state: 'completed' });
    expect(await twilio.waitForMessage(FR)).toMatchObject({ to: FR });
    await unsent(challenge.id, job, '+447400123458');

    await switchOn('country:GB');
    expect(await fixture.finished(job)).toMatchObject({ state: 'completed' });
    expect(await twilio.waitForMessage('+447400123458')).toMatchObject({ to: '+447400123458' });
  });

  it('skips a held SMS whose code expired meanwhile, without sending it', async () => {
    const to = '+447400123459';
    const { challenge, job } = await queuedThenSwitchedOff(to, 'country:GB', 1500);
    expect(await fixture.finished(job)).toEqual({ state: 'completed', value: { skipped: 'challenge_expired' } });
    expect(twilio.messages.filter((sms) => sms.to === to)).toEqual([]);
    expect((await listDeliveryAttempts(database.db, challenge.id)).map((row) => row.error_code)).toEqual([
      'challenge_expired',
    ]);
  });
});
