import { type Database, findChallenge, type Kysely, moveDelivery, type OtpChallenge } from '@otp/db';
import { isDeliveryJobData } from '@otp/domain';
import type { Queue } from 'bullmq';

export interface RetryFailedOutcome {
  retried: string[];
  skipped: Array<{ jobId: string; reason: string }>;
}

/** Why a failed send's challenge cannot take it any more (a failed challenge can: we reopen it). */
function cannotRetry(challenge: OtpChallenge | undefined, sendNumber: number, now: Date): string | null {
  if (challenge === undefined) return 'challenge_missing';
  if (challenge.status === 'verified' || challenge.status === 'locked') return `challenge_${challenge.status}`;
  if (challenge.expires_at.getTime() <= now.getTime()) return 'challenge_expired';
  if (challenge.send_count !== sendNumber) return 'superseded';
  return null;
}

/**
 * The dead-letter retry: every failed delivery job whose challenge can still be completed goes
 * back to the queue (the challenge is reopened first, so the worker does not skip it). Jobs of
 * expired, used, locked or superseded challenges stay failed: their code is of no use any more.
 */
export async function retryFailedDeliveries(
  db: Kysely<Database>,
  queue: Queue,
  now = new Date(),
): Promise<RetryFailedOutcome> {
  const outcome: RetryFailedOutcome = { retried: [], skipped: [] };
  for (const job of await queue.getFailed(0, -1)) {
    const jobId = String(job.id);
    if (!isDeliveryJobData(job.data)) {
      outcome.skipped.push({ jobId, reason: 'invalid_payload' });
      continue;
    }
    const { challengeId, sendNumber } = job.data;
    const challenge = await findChallenge(db, challengeId);
    const reason = cannotRetry(challenge, sendNumber, now);
    if (reason !== null || !(await moveDelivery(db, challengeId, sendNumber, 'reopened', { lastError: null }))) {
      outcome.skipped.push({ jobId, reason: reason ?? 'not_reopenable' });
      continue;
    }
    // A fresh attempt budget: the operator decided the cause is fixed.
    await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    outcome.retried.push(jobId);
  }
  return outcome;
}
