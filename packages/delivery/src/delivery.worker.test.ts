import { randomUUID } from 'node:crypto';
import { findChallenge, listDeliveryAttempts } from '@otp/db';
import { JOB_NAMES } from '@otp/domain';
import { describe, expect, it } from 'vitest';
import { DeliveryError } from './delivery.error.ts';
import { useDeliveryTestBed } from './testing/index.ts';

const bed = useDeliveryTestBed({ worker: { maxRateLimitedStarts: 2 } });

const attempts = (challengeId: string) => listDeliveryAttempts(bed.database.db, challengeId);

describe('delivery pipeline: a send goes out once and is recorded', () => {
  it('sends the opened message and records the outcome on the challenge and as an attempt row', async () => {
    const challenge = await bed.fixture.seedChallenge({ to: 'ada@example.com' });
    const outcome = await bed.fixture.finished(await bed.fixture.enqueue(challenge));

    expect(outcome).toEqual({ state: 'completed', value: { providerMessageId: expect.stringMatching(/^fake-/) } });
    const message = bed.sender.sent.find((sent) => sent.challengeId === challenge.id);
    expect(message).toMatchObject({
      channel: 'email',
      to: 'ada@example.com',
      toMasked: 'a***@example.com',
      sendNumber: 1,
      purpose: 'login',
    });
    expect(message?.text).toBe(`Your code is ${challenge.code}`);
    const row = await findChallenge(bed.database.db, challenge.id);
    expect(row).toMatchObject({
      status: 'pending',
      delivery_status: 'sent',
      delivery_attempts: 1,
      delivery_last_error: null,
    });
    expect(row?.delivery_provider_message_id).toMatch(/^fake-/);
    expect(await attempts(challenge.id)).toMatchObject([
      { outcome: 'sent', provider: 'fake', attempt: 1, send_number: 1, error_code: null, channel: 'email' },
    ]);
  });

  it('delivers and records a challenge of the previous release (a version 4 id)', async () => {
    const challenge = await bed.fixture.seedChallenge({ to: 'legacy-id@example.com', legacyId: true });
    const outcome = await bed.fixture.finished(await bed.fixture.enqueue(challenge));

    expect(outcome.state).toBe('completed');
    expect(bed.sender.sent.filter((sent) => sent.challengeId === challenge.id)).toHaveLength(1);
    expect(await findChallenge(bed.database.db, challenge.id)).toMatchObject({ delivery_status: 'sent' });
    expect(await attempts(challenge.id)).toMatchObject([{ outcome: 'sent', attempt: 1 }]);
  });

  it('retries a temporary failure with backoff, then records both attempts', async () => {
    const challenge = await bed.fixture.seedChallenge({ to: 'retry@example.com' });
    bed.sender.failNext(new DeliveryError('temporary', 'smtp_451'));
    const outcome = await bed.fixture.finished(await bed.fixture.enqueue(challenge));

    expect(outcome.state).toBe('completed');
    expect(await attempts(challenge.id)).toMatchObject([
      { outcome: 'temporary_failure', error_code: 'smtp_451', attempt: 1 },
      { outcome: 'sent', error_code: null, attempt: 2 },
    ]);
    expect(await findChallenge(bed.database.db, challenge.id)).toMatchObject({
      delivery_status: 'sent',
      delivery_attempts: 2,
      delivery_last_error: null,
    });
  });

  it('fails the delivery and the challenge when the last attempt fails temporarily', async () => {
    const challenge = await bed.fixture.seedChallenge({ to: 'down@example.com' });
    bed.sender.failNext(
      new DeliveryError('temporary', 'smtp_connection'),
      new DeliveryError('temporary', 'smtp_connection'),
    );
    const outcome = await bed.fixture.finished(await bed.fixture.enqueue(challenge, { attempts: 2 }));

    expect(outcome).toEqual({ state: 'failed', reason: 'smtp_connection' });
    expect((await attempts(challenge.id)).map((row) => row.outcome)).toEqual([
      'temporary_failure',
      'temporary_failure',
    ]);
    expect(await findChallenge(bed.database.db, challenge.id)).toMatchObject({
      status: 'failed',
      delivery_status: 'failed',
      delivery_attempts: 2,
      delivery_last_error: 'smtp_connection',
    });
  });

  it('fails at once, without retry, on a permanent failure', async () => {
    const challenge = await bed.fixture.seedChallenge({ to: 'nobody@example.com' });
    const callsBefore = bed.sender.calls;
    bed.sender.failNext(
      new DeliveryError('permanent', 'smtp_550', { detail: '550 5.1.1 <nobody@example.com> unknown' }),
    );
    const job = await bed.fixture.enqueue(challenge, { attempts: 3 });
    const outcome = await bed.fixture.finished(job);

    expect(outcome).toEqual({ state: 'failed', reason: 'smtp_550' });
    expect(bed.sender.calls - callsBefore).toBe(1);
    expect((await bed.fixture.queue.getJob(job.id as string))?.attemptsMade).toBe(1);
    expect(await attempts(challenge.id)).toMatchObject([
      { outcome: 'permanent_failure', error_code: 'smtp_550', error_message: '550 5.1.1 <[address]> unknown' },
    ]);
    expect(await findChallenge(bed.database.db, challenge.id)).toMatchObject({
      status: 'failed',
      delivery_status: 'failed',
      delivery_last_error: 'smtp_550',
    });
  });

  it('pauses the queue on a provider rate limit without using an attempt', async () => {
    const challenge = await bed.fixture.seedChallenge({ to: 'busy@example.com' });
    bed.sender.failNext(new DeliveryError('rate_limited', 'twilio_429', { retryAfterMs: 100 }));
    const job = await bed.fixture.enqueue(challenge, { attempts: 1 });
    const outcome = await bed.fixture.finished(job);

    // attempts: 1, so a temporary failure would have failed the job; the 429 did not count.
    expect(outcome.state).toBe('completed');
    expect(await attempts(challenge.id)).toMatchObject([
      { outcome: 'rate_limited', error_code: 'twilio_429', attempt: 1 },
      { outcome: 'sent', attempt: 2 },
    ]);
  });

  it('treats a rate limit as a temporary failure once the job has started too often', async () => {
    const challenge = await bed.fixture.seedChallenge({ to: 'always-busy@example.com' });
    const limited = () => new DeliveryError('rate_limited', 'twilio_429', { retryAfterMs: 20 });
    bed.sender.failNext(limited(), limited(), limited());
    const outcome = await bed.fixture.finished(await bed.fixture.enqueue(challenge, { attempts: 2 }));

    expect(outcome.state).toBe('completed');
    expect((await attempts(challenge.id)).map((row) => row.outcome)).toEqual([
      'rate_limited',
      'rate_limited',
      'temporary_failure',
      'sent',
    ]);
  });
});

describe('delivery pipeline: sends that must not go out are skipped', () => {
  it.each([
    ['challenge_expired', { expiresInMs: -1000 }],
    ['challenge_verified', { status: 'verified' as const }],
    ['challenge_locked', { status: 'locked' as const }],
    ['already_sent', { deliveryStatus: 'sent' as const }],
  ])('skips with %s, records a skipped attempt and does not call the sender', async (reason, seed) => {
    const challenge = await bed.fixture.seedChallenge({ to: 'skip@example.com', ...seed });
    const callsBefore = bed.sender.calls;
    const outcome = await bed.fixture.finished(await bed.fixture.enqueue(challenge));

    expect(outcome).toEqual({ state: 'completed', value: { skipped: reason } });
    expect(bed.sender.calls).toBe(callsBefore);
    expect(await attempts(challenge.id)).toMatchObject([{ outcome: 'skipped', error_code: reason, duration_ms: 0 }]);
  });

  it('skips a send superseded by a resend, leaving the newer send in charge', async () => {
    const challenge = await bed.fixture.seedChallenge({ to: 'resend@example.com', sendCount: 2 });
    const callsBefore = bed.sender.calls;
    const outcome = await bed.fixture.finished(await bed.fixture.enqueue({ ...challenge, sendNumber: 1 }));

    expect(outcome).toEqual({ state: 'completed', value: { skipped: 'superseded' } });
    expect(bed.sender.calls).toBe(callsBefore);
    expect(await attempts(challenge.id)).toMatchObject([
      { outcome: 'skipped', send_number: 1, error_code: 'superseded' },
    ]);
    expect(await findChallenge(bed.database.db, challenge.id)).toMatchObject({ delivery_status: 'queued' });
  });

  it('skips a send whose challenge no longer exists', async () => {
    const ghost = { ...(await bed.fixture.seedChallenge({ to: 'ghost@example.com' })), id: randomUUID() };
    const callsBefore = bed.sender.calls;
    const outcome = await bed.fixture.finished(await bed.fixture.enqueue(ghost));

    expect(outcome).toEqual({ state: 'completed', value: { skipped: 'challenge_missing' } });
    expect(bed.sender.calls).toBe(callsBefore);
  });
});

describe('delivery pipeline: a job that breaks the contract', () => {
  it('fails an invalid payload once, without retries', async () => {
    const callsBefore = bed.sender.calls;
    const job = await bed.fixture.queue.add(
      JOB_NAMES.sendCode,
      { hello: 'world' },
      { jobId: 'invalid.1', attempts: 3 },
    );
    const outcome = await bed.fixture.finished(job);

    expect(outcome).toEqual({ state: 'failed', reason: 'invalid_payload' });
    expect((await bed.fixture.queue.getJob('invalid.1'))?.attemptsMade).toBe(1);
    expect(bed.sender.calls).toBe(callsBefore);
  });

  it('fails a job for the other channel as an invalid payload', async () => {
    const challenge = await bed.fixture.seedChallenge({ to: 'wrong-queue@example.com' });
    const data = { ...bed.fixture.jobData(challenge), channel: 'sms' };
    const outcome = await bed.fixture.finished(await bed.fixture.enqueue(challenge, { data }));

    expect(outcome).toEqual({ state: 'failed', reason: 'invalid_payload' });
  });
});
