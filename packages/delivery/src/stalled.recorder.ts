import { type Database, findChallenge, type Kysely, moveDelivery } from '@otp/db';
import { type AttemptIdentity, attemptRecorder } from './attempt.recorder.ts';
import { insertDeliveryFailedEvent } from './delivery-failed.event.ts';

/**
 * A job whose worker died more often than allowed is failed by BullMQ without the processor
 * having a say. Its attempt is recorded, and the delivery moves by the `stalled` transition: the
 * challenge fails instead of reading "sending" for ever. If a run of the job did record its send,
 * that record stays (the transition moves only a send still in line). The gateway's reconciler
 * records the same when this record does not land. The challenge failed for good: the webhooks
 * say so (challenge.failed, `errorCode` stalled).
 */
export async function recordStalledJob(db: Kysely<Database>, identity: AttemptIdentity): Promise<boolean> {
  // One transaction: the attempt row, the move and, when the move happened, the webhook's
  // challenge.failed land together or not at all; the worker's record and the reconciler's, or a
  // second run of either, move it once, so the event is written once.
  return db.transaction().execute(async (trx) => {
    await attemptRecorder(trx, identity)('temporary_failure', { errorCode: 'stalled' });
    const moved = await moveDelivery(trx, identity.challengeId, identity.sendNumber, 'stalled', {
      lastError: 'stalled',
    });
    const challenge = moved ? await findChallenge(trx, identity.challengeId) : undefined;
    if (challenge !== undefined) await insertDeliveryFailedEvent(trx, challenge, 'stalled', new Date());
    return moved;
  });
}
