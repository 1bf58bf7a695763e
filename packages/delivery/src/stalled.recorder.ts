import { type Database, type Kysely, moveDelivery } from '@otp/db';
import { type AttemptIdentity, attemptRecorder } from './attempt.recorder.ts';

/**
 * A job whose worker died more often than allowed is failed by BullMQ without the processor
 * having a say. Its attempt is recorded, and the delivery moves by the `stalled` transition: the
 * challenge fails instead of reading "sending" for ever. If a run of the job did record its send,
 * that record stays (the transition moves only a send still in line). The gateway's reconciler
 * records the same when this record does not land.
 */
export async function recordStalledJob(db: Kysely<Database>, identity: AttemptIdentity): Promise<boolean> {
  // One transaction: the attempt row and the move land together or not at all.
  return db.transaction().execute(async (trx) => {
    await attemptRecorder(trx, identity)('temporary_failure', { errorCode: 'stalled' });
    return moveDelivery(trx, identity.challengeId, identity.sendNumber, 'stalled', { lastError: 'stalled' });
  });
}
