import type { Kysely } from 'kysely';
import type { Database, DeliveryAttempt, NewDeliveryAttempt } from './database.ts';
import { updateDelivery } from './otp-challenge.repository.ts';

type Db = Kysely<Database>;

/** Every attempt to hand a message to a provider is a row, so "was it sent?" needs no Redis. */
export async function insertDeliveryAttempt(db: Db, row: NewDeliveryAttempt): Promise<void> {
  await db.insertInto('delivery_attempts').values(row).execute();
}

export async function listDeliveryAttempts(db: Db, challengeId: string): Promise<DeliveryAttempt[]> {
  return db.selectFrom('delivery_attempts').selectAll().where('challenge_id', '=', challengeId).orderBy('id').execute();
}

export interface StalledSend {
  challengeId: string;
  sendNumber: number;
  channel: DeliveryAttempt['channel'];
  /** The worker's provider; `unknown` when recorded by someone else (the gateway's reconciler). */
  provider: string;
  attempt: number;
}

/**
 * A job whose worker died more often than allowed is failed by BullMQ without the processor
 * having a say: its attempt and the failed delivery are recorded here, so the challenge does not
 * read "sending" for ever.
 */
export async function recordStalledDelivery(db: Db, send: StalledSend): Promise<void> {
  await insertDeliveryAttempt(db, {
    challenge_id: send.challengeId,
    send_number: send.sendNumber,
    channel: send.channel,
    provider: send.provider,
    attempt: send.attempt,
    outcome: 'temporary_failure',
    error_code: 'stalled',
    error_message: null,
    provider_message_id: null,
    duration_ms: 0,
  });
  await updateDelivery(db, send.challengeId, send.sendNumber, {
    status: 'failed',
    lastError: 'stalled',
    failChallenge: true,
  });
}
