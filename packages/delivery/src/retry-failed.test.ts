import { findChallenge, sql } from '@otp/db';
import { describe, expect, it } from 'vitest';
import { DeliveryError } from './delivery.error.ts';
import { retryFailedDeliveries } from './retry-failed.ts';
import { useDeliveryTestBed } from './testing/index.ts';

// The failed set is the dead-letter queue: a failed delivery stays inspectable and an operator
// can send it again while its challenge is still valid.
const bed = useDeliveryTestBed();

describe('retrying failed deliveries', () => {
  it('sends again the failed jobs of valid challenges, and leaves the others failed', async () => {
    const valid = await bed.fixture.seedChallenge({ to: 'retry-me@example.com' });
    const expired = await bed.fixture.seedChallenge({ to: 'too-late@example.com' });
    bed.sender.failNext(new DeliveryError('permanent', 'smtp_550'), new DeliveryError('permanent', 'smtp_550'));
    const [validJob, expiredJob] = [await bed.fixture.enqueue(valid), await bed.fixture.enqueue(expired)];
    expect(await bed.fixture.finished(validJob)).toEqual({ state: 'failed', reason: 'smtp_550' });
    expect(await bed.fixture.finished(expiredJob)).toEqual({ state: 'failed', reason: 'smtp_550' });
    expect(await findChallenge(bed.database.db, valid.id)).toMatchObject({
      status: 'failed',
      delivery_status: 'failed',
    });
    await sql`UPDATE otp_challenges SET expires_at = now() - interval '1 second' WHERE id = ${expired.id}`.execute(
      bed.database.db,
    );

    const outcome = await retryFailedDeliveries(bed.database.db, bed.fixture.queue);

    expect(outcome.retried).toEqual([validJob.id]);
    expect(outcome.skipped).toEqual([{ jobId: expiredJob.id, reason: 'challenge_expired' }]);
    expect(await bed.fixture.finished(validJob)).toMatchObject({ state: 'completed' });
    expect(bed.sender.sent.map((message) => message.to)).toEqual(['retry-me@example.com']);
    expect(await findChallenge(bed.database.db, valid.id)).toMatchObject({
      status: 'pending',
      delivery_status: 'sent',
    });
    expect(await bed.fixture.queue.getJobState(expiredJob.id as string)).toBe('failed');
  });
});
