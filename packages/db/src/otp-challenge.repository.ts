import type { DeliveryStatus } from '@otp/domain';
import { type Kysely, sql } from 'kysely';
import type { Database, NewOtpChallenge, OtpChallenge } from './database.ts';

type Db = Kysely<Database>;

export async function insertChallenge(db: Db, row: NewOtpChallenge): Promise<void> {
  await db.insertInto('otp_challenges').values(row).execute();
}

export async function findChallenge(db: Db, id: string): Promise<OtpChallenge | undefined> {
  return db.selectFrom('otp_challenges').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * Counts one verification attempt, in its own statement and before any comparison, the way
 * Kratos does: concurrent submissions each take one unit of the budget atomically, so no more
 * than `max_attempts` codes are ever compared for a challenge. Returns undefined when the
 * challenge cannot take an attempt (missing, not pending, expired or budget used up).
 */
export async function countVerificationAttempt(db: Db, id: string): Promise<OtpChallenge | undefined> {
  return db
    .updateTable('otp_challenges')
    .set((eb) => ({ attempt_count: eb('attempt_count', '+', 1) }))
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .where('expires_at', '>', sql<Date>`now()`)
    .where((eb) => eb('attempt_count', '<', eb.ref('max_attempts')))
    .returningAll()
    .executeTakeFirst();
}

/**
 * Consumes the challenge. The WHERE makes it single-use under concurrency: of several requests
 * holding a correct code, exactly one sees a row come back.
 */
export async function consumeChallenge(db: Db, id: string): Promise<boolean> {
  const result = await db
    .updateTable('otp_challenges')
    .set({ status: 'verified', verified_at: sql<Date>`now()` })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .where('expires_at', '>', sql<Date>`now()`)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** Locks a pending challenge whose attempt budget is used up. */
export async function lockExhaustedChallenge(db: Db, id: string): Promise<void> {
  await db
    .updateTable('otp_challenges')
    .set({ status: 'locked' })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .where((eb) => eb('attempt_count', '>=', eb.ref('max_attempts')))
    .execute();
}

/** Reads a challenge and holds its row lock until the transaction ends (resend). */
export async function lockChallengeForUpdate(trx: Db, id: string): Promise<OtpChallenge | undefined> {
  return trx.selectFrom('otp_challenges').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export interface ResendUpdate {
  codeHashes: Buffer[];
  sendCount: number;
  resendAvailableAt: Date;
}

export async function recordResend(trx: Db, id: string, update: ResendUpdate): Promise<void> {
  await trx
    .updateTable('otp_challenges')
    .set({
      code_hashes: update.codeHashes,
      send_count: update.sendCount,
      resend_available_at: update.resendAvailableAt,
      delivery_status: 'queued',
      delivery_last_error: null,
      delivery_provider_message_id: null,
      delivery_updated_at: sql<Date>`now()`,
    })
    .where('id', '=', id)
    .execute();
}

export interface DeliveryUpdate {
  status: DeliveryStatus;
  lastError?: string | null;
  providerMessageId?: string | null;
  /** Count one more provider attempt. */
  countAttempt?: boolean;
  /** The delivery failed for good: the challenge can no longer be completed. */
  failChallenge?: boolean;
}

/**
 * Writes the delivery outcome of one send on its challenge. Only the latest send speaks for the
 * challenge: an older send finishing late does not overwrite a resend's status.
 */
export async function updateDelivery(db: Db, id: string, sendNumber: number, update: DeliveryUpdate): Promise<boolean> {
  const result = await db
    .updateTable('otp_challenges')
    .set((eb) => ({
      delivery_status: update.status,
      delivery_updated_at: sql<Date>`now()`,
      ...(update.lastError === undefined ? {} : { delivery_last_error: update.lastError }),
      ...(update.providerMessageId === undefined ? {} : { delivery_provider_message_id: update.providerMessageId }),
      ...(update.countAttempt === true ? { delivery_attempts: eb('delivery_attempts', '+', 1) } : {}),
      ...(update.failChallenge === true
        ? { status: sql<'failed'>`CASE WHEN status = 'pending' THEN 'failed' ELSE status END` }
        : {}),
    }))
    .where('id', '=', id)
    .where('send_count', '=', sendNumber)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

export interface ProviderStatusUpdate {
  /** The send the provider's callback names (from the callback URL the worker gave it). */
  sendNumber: number;
  /** The provider's id of the message; must be the one the worker recorded for that send. */
  providerMessageId: string;
  status: Extract<DeliveryStatus, 'delivered' | 'undelivered' | 'failed'>;
  /** Set when the provider names an error; undefined leaves the last error as it is. */
  lastError?: string;
}

/**
 * Writes a provider's delivery report (Twilio's status callback) on its challenge, only when the
 * report is about the latest send and the very message the worker recorded, and never over
 * `delivered`: reports arrive out of order, and a late `undelivered` must not undo a delivery.
 */
export async function recordProviderDeliveryStatus(db: Db, id: string, update: ProviderStatusUpdate): Promise<boolean> {
  const result = await db
    .updateTable('otp_challenges')
    .set({
      delivery_status: update.status,
      delivery_updated_at: sql<Date>`now()`,
      ...(update.lastError === undefined ? {} : { delivery_last_error: update.lastError }),
    })
    .where('id', '=', id)
    .where('send_count', '=', update.sendNumber)
    .where('delivery_provider_message_id', '=', update.providerMessageId)
    .where('delivery_status', '<>', 'delivered')
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/**
 * Puts a failed delivery back in line (an operator's retry): the challenge is pending again if
 * the failure had failed it, provided the send is still the latest and the challenge has not
 * expired. Returns false when it cannot be retried.
 */
export async function reopenFailedDelivery(db: Db, id: string, sendNumber: number): Promise<boolean> {
  const result = await db
    .updateTable('otp_challenges')
    .set({
      status: sql<'pending'>`CASE WHEN status = 'failed' THEN 'pending' ELSE status END`,
      delivery_status: 'queued',
      delivery_last_error: null,
      delivery_updated_at: sql<Date>`now()`,
    })
    .where('id', '=', id)
    .where('send_count', '=', sendNumber)
    .where('status', 'in', ['pending', 'failed'])
    .where('expires_at', '>', sql<Date>`now()`)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** Deletes challenges that expired more than `olderThan` ago (their outbox and attempts cascade). */
export async function purgeExpiredChallenges(db: Db, before: Date): Promise<number> {
  const result = await db.deleteFrom('otp_challenges').where('expires_at', '<', before).executeTakeFirst();
  return Number(result.numDeletedRows);
}
