import { type Kysely, sql } from 'kysely';
import type { Database, User } from './database.ts';
import { hasEnabledFactor } from './user-factor.sql.ts';

// What the operators' admin API changes on an account (services/gateway/src/admin/), and the one
// check every sign-in makes against it. Each change runs in the caller's transaction, beside the
// audit row that records it.

type Db = Kysely<Database>;

/**
 * The account for a sign-in that is about to start a session, share-locked (`FOR SHARE`) for the
 * rest of the transaction, or undefined when it is gone. A disable takes the row's write lock
 * (`setUserDisabled`) before it revokes the sessions, so the two are ordered: a sign-in that
 * locked first commits its session before the disable revokes every session, and one that waited
 * reads `disabled_at` as the disable committed it. Either way no session outlives a disable.
 */
export async function lockUserForSignIn(trx: Db, userId: string): Promise<User | undefined> {
  return trx.selectFrom('users').selectAll().where('id', '=', userId).forShare().executeTakeFirst();
}

/**
 * As `lockUserForSignIn`, for a sign-in that completes in this transaction: the same statement
 * makes its locale the account's language (the notices' one), unless the account is disabled
 * (that sign-in goes no further). The UPDATE locks the row `FOR NO KEY UPDATE`: the disable is
 * ordered as above, and sign-ins of one account queue behind each other to their (short) commits;
 * the `FOR KEY SHARE` that a session's or a token's insert takes does not wait for it. One
 * statement, not the share lock and then an UPDATE: two sign-ins each holding the share lock
 * would each wait for the other's to write, a deadlock.
 */
export async function lockUserForSignInSettingLocale(
  trx: Db,
  userId: string,
  locale: string,
): Promise<User | undefined> {
  // Raw SQL of constant text: a prepared statement, and no query builder on the sign-in path.
  const { rows } = await sql<User>`
    UPDATE users SET locale = CASE WHEN disabled_at IS NULL THEN ${locale}::text ELSE locale END
    WHERE id = ${userId}::uuid
    RETURNING *`.execute(trx);
  return rows[0];
}

/** What a sign-in reads of the account it locks after the first factor: no more than it uses. */
export type FirstFactorLock = Pick<
  User,
  'id' | 'email' | 'email_verified_at' | 'phone' | 'phone_verified_at' | 'disabled_at'
> & { has_factors: boolean };

/**
 * The first statement of a sign-in that has proved its first factor: as
 * `lockUserForSignInSettingLocale`, but the locale is made the account's language only when the
 * account has no enabled second factor (the sign-in then completes in this transaction), and the
 * row says whether it has one (`has_factors`, read in the same statement). Both kinds of account
 * are locked `FOR NO KEY UPDATE` to the commit, so a disable is ordered with the sign-in either
 * way (see `lockUserForSignIn`). One statement instead of reading the factors, then locking.
 */
export async function lockUserForFirstFactor(
  trx: Db,
  userId: string,
  locale: string,
): Promise<FirstFactorLock | undefined> {
  const { rows } = await sql<FirstFactorLock>`
    UPDATE users AS u
    SET locale = CASE WHEN u.disabled_at IS NULL AND NOT f.has_factors THEN ${locale}::text ELSE u.locale END
    FROM (SELECT ${hasEnabledFactor(sql`${userId}::uuid`)} AS has_factors) AS f
    WHERE u.id = ${userId}::uuid
    RETURNING u.id, u.email, u.email_verified_at, u.phone, u.phone_verified_at, u.disabled_at, f.has_factors`.execute(
    trx,
  );
  return rows[0];
}

/**
 * Disables the account (`disabledAt` a time; one already disabled keeps its first time) or enables
 * it (null). Returns whether it was disabled before, or undefined when there is no such account.
 * The UPDATE holds the row's lock to the end of the transaction (see `lockUserForSignIn`).
 */
export async function setUserDisabled(
  trx: Db,
  userId: string,
  disabledAt: Date | null,
): Promise<{ wasDisabled: boolean } | undefined> {
  const result = await sql<{ was_disabled: boolean }>`
    UPDATE users AS u
    SET disabled_at = CASE WHEN ${disabledAt}::timestamptz IS NULL THEN NULL
                           ELSE coalesce(old.disabled_at, ${disabledAt}::timestamptz) END,
        updated_at = now()
    FROM (SELECT id, disabled_at FROM users WHERE id = ${userId}::uuid FOR UPDATE) AS old
    WHERE u.id = old.id
    RETURNING old.disabled_at IS NOT NULL AS was_disabled
  `.execute(trx);
  const row = result.rows[0];
  return row === undefined ? undefined : { wasDisabled: row.was_disabled };
}

/**
 * Ends the failure windows of these recipients (their wrong-code locks); returns how many rows
 * counted failures. The message window (`recent`) stays: an unlock is not a licence to send more.
 */
export async function clearRecipientFailures(trx: Db, recipientHashes: Buffer[]): Promise<number> {
  if (recipientHashes.length === 0) return 0;
  const result = await trx
    .updateTable('otp_recipient_windows')
    .set({ failure_count: 0, failure_window_ends_at: null })
    .where('recipient_hash', 'in', recipientHashes)
    .where((eb) => eb.or([eb('failure_count', '>', 0), eb('failure_window_ends_at', 'is not', null)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** The account's factors, enabled or pending, oldest first. */
export async function listFactors(db: Db, userId: string) {
  return db
    .selectFrom('user_factors')
    .select(['kind', 'created_at', 'enabled_at'])
    .where('user_id', '=', userId)
    .orderBy('created_at')
    .execute();
}

/** A challenge sent to a recipient, with its delivery and the provider of its latest attempt. */
export interface RecipientChallenge {
  id: string;
  purpose: string;
  channel: string;
  status: string;
  created_at: Date;
  delivery_status: string;
  delivery_attempts: number;
  delivery_last_error: string | null;
  provider: string | null;
  last_error_code: string | null;
  /** The locale chosen at the request, and the one the latest attempt was written in. */
  locale: string;
  sent_locale: string | null;
}

/** The newest challenges sent to a recipient (its keyed hash), newest first. */
export async function listChallengesByRecipient(
  db: Db,
  recipientHash: Buffer,
  limit: number,
): Promise<RecipientChallenge[]> {
  return db
    .selectFrom('otp_challenges as c')
    .leftJoinLateral(
      (eb) =>
        eb
          .selectFrom('delivery_attempts as a')
          .select(['a.provider', 'a.error_code', 'a.locale'])
          .whereRef('a.challenge_id', '=', 'c.id')
          .orderBy('a.id', 'desc')
          .limit(1)
          .as('last'),
      (join) => join.onTrue(),
    )
    .select([
      'c.id',
      'c.purpose',
      'c.channel',
      'c.status',
      'c.created_at',
      'c.delivery_status',
      'c.delivery_attempts',
      'c.delivery_last_error',
      'last.provider',
      'last.error_code as last_error_code',
      'c.locale',
      'last.locale as sent_locale',
    ])
    .where('c.recipient_hash', '=', recipientHash)
    .orderBy('c.created_at', 'desc')
    .orderBy('c.id', 'desc')
    .limit(limit)
    .execute();
}

/** What an access token's check needs: whether the account is disabled, and its session's state. */
export interface AccessState {
  disabled: boolean;
  /** The session named by the token: live, revoked, or missing (no row, or another account's). */
  session: 'live' | 'revoked' | 'missing';
}

/**
 * The state an access token is checked against, in one query; undefined when the account is gone.
 * `sessionId` null (a token from before sessions) asks about the account alone.
 */
export async function findAccessState(
  db: Db,
  userId: string,
  sessionId: string | null,
): Promise<AccessState | undefined> {
  if (sessionId === null) {
    const user = await db.selectFrom('users').select('disabled_at').where('id', '=', userId).executeTakeFirst();
    return user === undefined ? undefined : { disabled: user.disabled_at !== null, session: 'live' };
  }
  const row = await db
    .selectFrom('users as u')
    .leftJoin('sessions as s', (join) => join.onRef('s.user_id', '=', 'u.id').on('s.id', '=', sessionId))
    .select(['u.disabled_at', 's.id as session_id', 's.revoked_at'])
    .where('u.id', '=', userId)
    .executeTakeFirst();
  if (row === undefined) return undefined;
  const session = row.session_id === null ? 'missing' : row.revoked_at === null ? 'live' : 'revoked';
  return { disabled: row.disabled_at !== null, session };
}
