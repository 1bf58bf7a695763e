import { type Kysely, sql } from 'kysely';
import type { Database } from './database.ts';

type Db = Kysely<Database>;

/** The addresses a deletion looks for, read under the lock that starts it. */
export interface DeletedUserAddresses {
  email: string | null;
  phone: string | null;
}

/**
 * The first step of an account's deletion: the user row, locked `FOR NO KEY UPDATE`. It queues
 * every other change of the row (a second deletion, a phone change, a factor failure count) behind
 * this one, which then finds the row gone. Not `FOR UPDATE` yet: that mode also waits for every
 * transaction that inserted a row referencing the user, and a refresh holds its session's lock
 * before it inserts its new token, while the deletion must take that session's lock: taking
 * `FOR UPDATE` before the sessions are deleted would deadlock with it (see holdUserAgainstReferences).
 */
export async function lockUserForDeletion(trx: Db, userId: string): Promise<DeletedUserAddresses | undefined> {
  return trx
    .selectFrom('users')
    .select(['email', 'phone'])
    .where('id', '=', userId)
    .forNoKeyUpdate()
    .executeTakeFirst();
}

/**
 * The user row `FOR UPDATE`, after the sessions are deleted (their locks held): it waits for every
 * transaction that has inserted a row referencing the user (a sign-in's session, a rotation's
 * token, an audit row) to end, and holds back any that would insert one until this transaction
 * ends, whose insert then fails its foreign key. What such a transaction committed before is seen
 * by the deletes that follow (each statement reads what has committed, under READ COMMITTED), so
 * nothing of the account is left behind however many sign-ins and refreshes race the deletion.
 */
export async function holdUserAgainstReferences(trx: Db, userId: string): Promise<void> {
  await trx.selectFrom('users').select('id').where('id', '=', userId).forUpdate().execute();
}

/** Deletes the account's sessions, locking them in id order as revokeUserSessions does. Returns how many. */
export async function deleteUserSessions(trx: Db, userId: string): Promise<number> {
  const locked = await trx
    .selectFrom('sessions')
    .select('id')
    .where('user_id', '=', userId)
    .orderBy('id')
    .forUpdate()
    .execute();
  if (locked.length > 0) await trx.deleteFrom('sessions').where('user_id', '=', userId).execute();
  return locked.length;
}

/** What an account holds to sign in with, deleted; counts by table. */
export interface DeletedCredentials {
  sessions: number;
  refreshTokens: number;
  mfaTokens: number;
  factors: number;
  recoveryCodes: number;
}

/** Deletes every credential of the account (sessions created since deleteUserSessions included). */
export async function deleteUserCredentials(trx: Db, userId: string): Promise<DeletedCredentials> {
  const count = (result: { numDeletedRows: bigint }) => Number(result.numDeletedRows);
  return {
    refreshTokens: count(await trx.deleteFrom('refresh_tokens').where('user_id', '=', userId).executeTakeFirst()),
    sessions: count(await trx.deleteFrom('sessions').where('user_id', '=', userId).executeTakeFirst()),
    mfaTokens: count(await trx.deleteFrom('mfa_tokens').where('user_id', '=', userId).executeTakeFirst()),
    factors: count(await trx.deleteFrom('user_factors').where('user_id', '=', userId).executeTakeFirst()),
    recoveryCodes: count(await trx.deleteFrom('recovery_codes').where('user_id', '=', userId).executeTakeFirst()),
  };
}

/** A deleted challenge: enough to remove its queue jobs (one per send) after the commit. */
export interface DeletedChallenge {
  id: string;
  channel: 'email' | 'sms';
  sendCount: number;
}

export interface DeletedChallenges {
  challenges: DeletedChallenge[];
  outboxRows: number;
  deliveryAttempts: number;
}

/**
 * Deletes the challenges of the account (`user_id`) and every challenge sent to one of its
 * addresses (`recipientHashes`, the keyed hashes the challenges are stored under), whoever asked
 * for it, with their outbox rows and delivery attempts.
 */
export async function deleteUserChallenges(
  trx: Db,
  userId: string,
  recipientHashes: Buffer[],
): Promise<DeletedChallenges> {
  const ids = trx
    .selectFrom('otp_challenges')
    .select('id')
    .where((eb) =>
      recipientHashes.length === 0
        ? eb('user_id', '=', userId)
        : eb.or([eb('user_id', '=', userId), eb('recipient_hash', 'in', recipientHashes)]),
    );
  const attempts = await trx.deleteFrom('delivery_attempts').where('challenge_id', 'in', ids).executeTakeFirst();
  const outbox = await trx.deleteFrom('delivery_outbox').where('challenge_id', 'in', ids).executeTakeFirst();
  const challenges = await trx
    .deleteFrom('otp_challenges')
    .where('id', 'in', ids)
    .returning(['id', 'channel', 'send_count'])
    .execute();
  return {
    challenges: challenges.map((row) => ({ id: row.id, channel: row.channel, sendCount: row.send_count })),
    outboxRows: Number(outbox.numDeletedRows),
    deliveryAttempts: Number(attempts.numDeletedRows),
  };
}

/** Deletes the account's security notices (their outbox rows go with them); returns their ids. */
export async function deleteUserNotifications(trx: Db, userId: string): Promise<string[]> {
  const rows = await trx.deleteFrom('notifications').where('user_id', '=', userId).returning('id').execute();
  return rows.map((row) => row.id);
}

/** Deletes the limit windows (message times, wrong-code counts) of these recipients; returns how many. */
export async function deleteRecipientWindows(trx: Db, recipientHashes: Buffer[]): Promise<number> {
  if (recipientHashes.length === 0) return 0;
  const result = await trx
    .deleteFrom('otp_recipient_windows')
    .where('recipient_hash', 'in', recipientHashes)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/**
 * Keeps the account's audit rows only in an anonymised form: no user id, client address, user
 * agent or request id (which leads to log lines naming the user), and no details (they hold ids
 * of the account's sessions, challenges and tokens), except `keepDetailsOf`'s: the deletion's own
 * event, whose details are counts and who deleted. What stays is the type and the time. Returns
 * how many rows it changed.
 */
export async function anonymiseUserEvents(trx: Db, userId: string, keepDetailsOf: string): Promise<number> {
  // Raw SQL: the table's type makes `details` insert-only, as every other writer must treat it.
  const result = await sql`
    UPDATE security_events
    SET user_id = NULL, ip = NULL, user_agent = NULL, request_id = NULL,
        details = CASE WHEN type = ${keepDetailsOf} THEN details ELSE '{}'::jsonb END
    WHERE user_id = ${userId}
  `.execute(trx);
  return Number(result.numAffectedRows ?? 0n);
}

/** The user row itself, last (anything still referencing it goes by its foreign keys). */
export async function deleteUserRow(trx: Db, userId: string): Promise<boolean> {
  const result = await trx.deleteFrom('users').where('id', '=', userId).executeTakeFirst();
  return result.numDeletedRows === 1n;
}
