import { randomUUID } from 'node:crypto';
import { findChallenge, listDeliveryAttempts, moveDelivery, sql } from '@otp/db';
import { describe, expect, it } from 'vitest';
import { DeliveryError } from './delivery.error.ts';
import { recordStalledJob } from './stalled.recorder.ts';
import { useDeliveryTestBed } from './testing/index.ts';

// A send that fails for good writes the webhook's challenge.failed (from `code.delivery_failed`)
// in the transaction of its attempt row and the status move, and only when the move happened.

const bed = useDeliveryTestBed();

const failedEvents = async (challengeId: string) =>
  (
    await bed.database.db
      .selectFrom('event_outbox')
      .select(['type', 'data', 'occurred_at'])
      .where('type', '=', 'challenge.failed')
      .execute()
  ).filter((row) => row.data.challengeId === challengeId);

/** A user for the challenge to belong to (a verify_phone or a registration's code has one). */
async function withUser(challengeId: string): Promise<string> {
  const userId = randomUUID();
  await bed.database.db
    .insertInto('users')
    .values({ id: userId, email: `${userId}@example.com` })
    .execute();
  await sql`UPDATE otp_challenges SET user_id = ${userId} WHERE id = ${challengeId}`.execute(bed.database.db);
  return userId;
}

describe('challenge.failed from the delivery worker', () => {
  it('is written once with the failed send, naming the challenge, the account and the error, never the address or code', async () => {
    const challenge = await bed.fixture.seedChallenge({ to: 'gone@example.com' });
    const userId = await withUser(challenge.id);
    bed.sender.failNext(new DeliveryError('permanent', 'smtp_550', { detail: '550 5.1.1 <gone@example.com> unknown' }));
    const outcome = await bed.fixture.finished(await bed.fixture.enqueue(challenge, { attempts: 3 }));
    expect(outcome).toEqual({ state: 'failed', reason: 'smtp_550' });

    const events = await failedEvents(challenge.id);
    expect(events).toHaveLength(1);
    expect(events[0]?.data).toEqual({
      userId,
      challengeId: challenge.id,
      channel: 'email',
      purpose: 'login',
      toMasked: 'g***@example.com',
      errorCode: 'smtp_550',
    });
    const text = JSON.stringify(events);
    expect(text).not.toContain('gone@example.com');
    expect(text).not.toContain(challenge.code);
  });

  it('is written when the retries run out, and not for a failure that will be retried', async () => {
    const challenge = await bed.fixture.seedChallenge({ to: 'down@example.com' });
    bed.sender.failNext(
      new DeliveryError('temporary', 'smtp_connection'),
      new DeliveryError('temporary', 'smtp_connection'),
    );
    const outcome = await bed.fixture.finished(await bed.fixture.enqueue(challenge, { attempts: 2 }));
    expect(outcome.state).toBe('failed');
    const events = await failedEvents(challenge.id);
    expect(events).toHaveLength(1);
    // No account: the challenge of a code sign-in names none.
    expect(events[0]?.data).not.toHaveProperty('userId');
    expect(events[0]?.data.errorCode).toBe('smtp_connection');

    const retried = await bed.fixture.seedChallenge({ to: 'flaky@example.com' });
    bed.sender.failNext(new DeliveryError('temporary', 'smtp_451'));
    expect((await bed.fixture.finished(await bed.fixture.enqueue(retried, { attempts: 3 }))).state).toBe('completed');
    expect(await failedEvents(retried.id)).toHaveLength(0);
  });

  it('is not written by a late failure after another run recorded the send, whose attempt is still recorded', async () => {
    const challenge = await bed.fixture.seedChallenge({ to: 'late@example.com' });
    const send = bed.sender.send;
    // Another run of the job had the message accepted and recorded it while this one was failing.
    bed.sender.send = async () => {
      await moveDelivery(bed.database.db, challenge.id, 1, 'sent', { providerMessageId: 'other-run', lastError: null });
      throw new DeliveryError('permanent', 'smtp_550');
    };
    try {
      await bed.fixture.finished(await bed.fixture.enqueue(challenge, { attempts: 1 }));
    } finally {
      bed.sender.send = send;
    }
    expect(await findChallenge(bed.database.db, challenge.id)).toMatchObject({ delivery_status: 'sent' });
    expect((await listDeliveryAttempts(bed.database.db, challenge.id)).map((row) => row.outcome)).toEqual([
      'permanent_failure',
    ]);
    expect(await failedEvents(challenge.id)).toHaveLength(0);
  });

  it('is written once for a job failed as stalled, whether the worker or the reconciler records it, and never over a recorded send', async () => {
    const challenge = await bed.fixture.seedChallenge({ to: 'stalled@example.com', deliveryStatus: 'sending' });
    const identity = {
      challengeId: challenge.id,
      sendNumber: 1,
      channel: 'email' as const,
      provider: 'fake',
      attempt: 2,
    };
    // The worker that saw the stall, then the reconciler finding the same failed job.
    expect(await recordStalledJob(bed.database.db, identity)).toBe(true);
    expect(await recordStalledJob(bed.database.db, { ...identity, provider: 'unknown' })).toBe(false);
    const events = await failedEvents(challenge.id);
    expect(events).toHaveLength(1);
    expect(events[0]?.data).toMatchObject({ errorCode: 'stalled', toMasked: 's***@example.com', channel: 'email' });

    const sent = await bed.fixture.seedChallenge({ to: 'sent-then-stalled@example.com', deliveryStatus: 'sent' });
    expect(await recordStalledJob(bed.database.db, { ...identity, challengeId: sent.id })).toBe(false);
    expect(await failedEvents(sent.id)).toHaveLength(0);
  });
});
