import { type Database, insertEvents, type Kysely, type OtpChallenge } from '@otp/db';
import { type DeliveryErrorCode, webhookEventsOf } from '@otp/domain';

/**
 * Writes the webhook's challenge.failed (`code.delivery_failed`) for a send that failed for good,
 * on `trx`: the transaction whose move to `failed` it reports, so the event commits with the move
 * or not at all. Call it only when the move happened, so a late or repeated failure sends none.
 * The data: ids, the masked address and the error code, never the address or the code.
 */
export async function insertDeliveryFailedEvent(
  trx: Kysely<Database>,
  challenge: Pick<OtpChallenge, 'id' | 'channel' | 'purpose' | 'recipient_masked' | 'user_id'>,
  errorCode: DeliveryErrorCode,
  at: Date,
): Promise<void> {
  const details = {
    challengeId: challenge.id,
    channel: challenge.channel,
    purpose: challenge.purpose,
    toMasked: challenge.recipient_masked,
    errorCode,
  };
  await insertEvents(trx, webhookEventsOf('code.delivery_failed', { userId: challenge.user_id, details, at }));
}
