import { findChallenge, sql } from '@otp/db';
import type { TestDatabase } from '@otp/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryError } from './delivery.error.ts';
import { retryFailedDeliveries } from './retry-failed.ts';
import {
  type DeliveryFixture,
  type DeliveryTestBed,
  type RecordingSender,
  startDeliveryTestBed,
} from './testing/index.ts';

// The failed set is the dead-letter queue: a failed delivery stays inspectable and an operator
// can send it again while its challenge is still valid.
let bed: DeliveryTestBed;
let database: TestDatabase;
let fixture: DeliveryFixture;
let sender: RecordingSender;

beforeAll(async () => {
  bed = await startDeliveryTestBed();
  ({ database, fixture, sender } = bed);
});

afterAll(async () => {
  await bed?.close();
});

describe('retrying failed deliveries', () => {
  it('sends again the failed jobs of valid challenges, and leaves the others failed', async () => {
    const valid = await fixture.seedChallenge({ to: 'retry-me@example.com' });
    const expired = await fixture.seedChallenge({ to: 'too-late@example.com' });
    sender.failNext(new DeliveryError('permanent', 'smtp_550'), new DeliveryError('permanent', 'smtp_550'));
    const [validJob, expiredJob] = [await fixture.enqueue(valid), await fixture.enqueue(expired)];
    expect(await fixture.finished(validJob)).toEqual({ state: 'failed', reason: 'smtp_550' });
    expect(await fixture.finished(expiredJob)).toEqual({ state: 'failed', reason: 'smtp_550' });
    expect(await findChallenge(database.db, valid.id)).toMatchObject({ status: 'failed', delivery_status: 'failed' });
    await sql`UPDATE otp_challenges SET expires_at = now() - interval '1 second' WHERE id = ${expired.id}`.execute(
      database.db,
    );

    const outcome = await retryFailedDeliveries(database.db, fixture.queue);

    expect(outcome.retried).toEqual([validJob.id]);
    expect(outcome.skipped).toEqual([{ jobId: expiredJob.id, reason: 'challenge_expired' }]);
    expect(await fixture.finished(validJob)).toMatchObject({ state: 'completed' });
    expect(sender.sent.map((message) => message.to)).toEqual(['retry-me@example.com']);
    expect(await findChallenge(database.db, valid.id)).toMatchObject({ status: 'pending', delivery_status: 'sent' });
    expect(await fixture.queue.getJobState(expiredJob.id as string)).toBe('failed');
  });
});
