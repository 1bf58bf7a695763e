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

/** The new send's codes and number; its delivery starts again with `moveDelivery(..., 'resent')`. */
export async function recordResend(trx: Db, id: string, update: ResendUpdate): Promise<void> {
  await trx
    .updateTable('otp_challenges')
    .set({
      code_hashes: update.codeHashes,
      send_count: update.sendCount,
      resend_available_at: update.resendAvailableAt,
    })
    .where('id', '=', id)
    .execute();
}

/** Deletes challenges that expired more than `olderThan` ago (their outbox and attempts cascade). */
export async function purgeExpiredChallenges(db: Db, before: Date): Promise<number> {
  const result = await db.deleteFrom('otp_challenges').where('expires_at', '<', before).executeTakeFirst();
  return Number(result.numDeletedRows);
}
