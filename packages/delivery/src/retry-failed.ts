import { type Database, findChallenge, type Kysely, moveDelivery, reopenNotification } from '@otp/db';
import { asReopened, isDeliveryJobData, isNoticeJobData, type SendRefusal, sendRefusal } from '@otp/domain';
import type { Queue } from 'bullmq';

export interface RetryFailedOutcome {
  retried: string[];
  skipped: Array<{ jobId: string; reason: SendRefusal | 'invalid_payload' | 'not_reopenable' }>;
}

/**
 * The dead-letter retry: every failed delivery job whose challenge can still be completed goes
 * back to the queue (the challenge is reopened first, so the worker does not skip it). Jobs of
 * expired, used, locked or superseded challenges stay failed: their code is of no use any more.
 * A failed challenge can be retried: it is judged as the `reopened` transition leaves it. A failed
 * security notice goes back too, unless its notification was sent after all or is gone.
 */
export async function retryFailedDeliveries(
  db: Kysely<Database>,
  queue: Queue,
  now = new Date(),
): Promise<RetryFailedOutcome> {
  const outcome: RetryFailedOutcome = { retried: [], skipped: [] };
  for (const job of await queue.getFailed(0, -1)) {
    const jobId = String(job.id);
    if (isNoticeJobData(job.data)) {
      if (!(await reopenNotification(db, job.data.notificationId))) {
        outcome.skipped.push({ jobId, reason: 'not_reopenable' });
        continue;
      }
      await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
      outcome.retried.push(jobId);
      continue;
    }
    if (!isDeliveryJobData(job.data)) {
      outcome.skipped.push({ jobId, reason: 'invalid_payload' });
      continue;
    }
    const { challengeId, sendNumber } = job.data;
    const challenge = await findChallenge(db, challengeId);
    const reason = sendRefusal(challenge && asReopened(challenge), sendNumber, now);
    if (reason !== undefined || !(await moveDelivery(db, challengeId, sendNumber, 'reopened', { lastError: null }))) {
      outcome.skipped.push({ jobId, reason: reason ?? 'not_reopenable' });
      continue;
    }
    // A fresh attempt budget: the operator decided the cause is fixed.
    await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    outcome.retried.push(jobId);
  }
  return outcome;
}
