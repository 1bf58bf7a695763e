import { type Kysely, sql } from 'kysely';
import { compiledOnce } from './compiled-once.ts';
import type { Database, NewOtpChallenge, OtpChallenge } from './database.ts';
import { failureBudgetLeft, type RecipientLimits } from './recipient-window.sql.ts';

type Db = Kysely<Database>;

export async function insertChallenge(db: Db, row: NewOtpChallenge): Promise<void> {
  await db.insertInto('otp_challenges').values(row).execute();
}

export async function findChallenge(db: Db, id: string): Promise<OtpChallenge | undefined> {
  return db.selectFrom('otp_challenges').selectAll().where('id', '=', id).executeTakeFirst();
}

/** What counting a verification attempt came to. */
/**
 * The columns of a challenge a verification reads once its attempt is counted: only these come
 * back (a sign-in parses every column it is sent, and the row is wide).
 */
export const COUNTED_CHALLENGE_COLUMNS = [
  'id',
  'channel',
  'purpose',
  'recipient_hash',
  'recipient_sealed',
  'recipient_masked',
  'locale',
  'user_id',
  'code_hashes',
  'attempt_count',
  'max_attempts',
  'sms_country',
  'api_key_name',
] as const satisfies readonly (keyof OtpChallenge)[];
export type CountedChallenge = Pick<OtpChallenge, (typeof COUNTED_CHALLENGE_COLUMNS)[number]>;
/** Their RETURNING list, built once: the counting statement runs on every verification. */
const countedReturning = sql.join(COUNTED_CHALLENGE_COLUMNS.map((column) => sql.ref(`c.${column}`)));

export type CountedAttempt =
  /** The attempt and one unit of the recipient's failure budget are taken: compare the code. */
  | {
      outcome: 'counted';
      challenge: CountedChallenge;
      /** The recipient's wrong codes counted in its failure window, this unit included. */
      recipientFailures: number;
      recipientFailureWindowEndsAt: Date;
    }
  /** The challenge takes no attempt: missing, not pending, expired or its attempts used up. */
  | { outcome: 'challenge_refused' }
  /** The challenge could take one, but its recipient's failure budget is used up: nothing taken. */
  | { outcome: 'recipient_locked'; recipientHash: Buffer };

/** The challenge's columns (all null when no attempt was counted) and what the statement took. */
type CountedRow = { [K in keyof CountedChallenge]: CountedChallenge[K] | null } & {
  target_recipient_hash: Buffer;
  recipient_failures: number | null;
  recipient_failure_window_ends_at: Date | null;
};

// The verification's statements, built once (compiledOnce): they run on every verification.
const countAttempt = compiledOnce(
  3,
  (
    _db,
    id: string,
    limits: Pick<RecipientLimits, 'maxFailures' | 'failureWindowEndsAt' | 'at'>,
    purposes: readonly OtpChallenge['purpose'][],
  ) => {
    const at = sql`${limits.at}::timestamptz`;
    const running = sql`w.failure_window_ends_at > ${at}`;
    return sql<CountedRow>`
    WITH target AS (
      SELECT id, recipient_hash FROM otp_challenges
      WHERE id = ${id}::uuid AND status = 'pending' AND expires_at > now() AND attempt_count < max_attempts
        AND purpose = ANY(${purposes}::text[])
      FOR UPDATE
    ), unit AS (
      INSERT INTO otp_recipient_windows AS w (recipient_hash, recent, updated_at, failure_count, failure_window_ends_at)
      SELECT recipient_hash, '{}'::timestamptz[], ${at}, 1, ${limits.failureWindowEndsAt}::timestamptz FROM target
      ON CONFLICT (recipient_hash) DO UPDATE
        SET failure_count = CASE WHEN ${running} THEN w.failure_count + 1 ELSE 1 END,
            failure_window_ends_at = CASE WHEN ${running} THEN w.failure_window_ends_at
              ELSE ${limits.failureWindowEndsAt}::timestamptz END,
            updated_at = ${at}
        WHERE ${failureBudgetLeft(limits)}
      RETURNING failure_count, failure_window_ends_at
    ), attempt AS (
      UPDATE otp_challenges AS c SET attempt_count = c.attempt_count + 1
      WHERE c.id = ${id}::uuid AND EXISTS (SELECT FROM unit)
      RETURNING ${countedReturning}
    )
    SELECT attempt.*, target.recipient_hash AS target_recipient_hash,
      unit.failure_count AS recipient_failures, unit.failure_window_ends_at AS recipient_failure_window_ends_at
    FROM target LEFT JOIN unit ON true LEFT JOIN attempt ON true
  `;
  },
);

/**
 * Counts one verification attempt before any comparison, the way Kratos does, and in the same
 * statement takes one unit of the failure budget of the challenge's recipient (every challenge
 * and purpose of one address share it): both are taken, or neither. Concurrent submissions each
 * take their units atomically, so no more than `max_attempts` codes are ever compared for a
 * challenge, nor more than `maxFailures` for a recipient within its failure window, however many
 * arrive at once and at whichever replica. A wrong code keeps its unit; a right one gives the
 * count back (`resetRecipientFailures`).
 *
 * Why it is exact, in READ COMMITTED:
 * - `target` locks the challenge row (FOR UPDATE) and checks it can take an attempt. A
 *   concurrent submission for the same challenge waits for the lock, and Postgres then checks the
 *   WHERE again on the row as that submission left it, so a challenge hands out at most
 *   `max_attempts` attempts. The lock is held until the statement ends.
 * - `unit` is an upsert of the recipient's window row: the conflicting row is locked and its
 *   DO UPDATE WHERE checked against the latest committed version (not the statement's
 *   snapshot), so submissions for one recipient, over any of its challenges, take turns on that
 *   row and at most `maxFailures` units are handed out per failure window. The window is fixed:
 *   it begins at the first counted failure and a new one begins once it has ended.
 * - `attempt` counts the challenge's attempt only when a unit was taken (`unit` has a row only
 *   when `target` has); the row, found by its id, is the one `target` holds locked. One
 *   statement is one transaction: a refusal changes nothing.
 * - `attempt` names the row by its id rather than joining `target`: the planner, which counts one
 *   possible row per partition in `target` and in the table, estimated the join at a cost that
 *   grows with the number of partitions and the history's size, and past Postgres'
 *   `jit_above_cost` (100,000) compiled the statement on every call: about 300 ms of CPU per
 *   attempt. By id, its estimate stays a few hundred at any size.
 * Locks are always taken challenge first, then window (new challenges take only the window, a
 * resend the same order), so two statements never wait for each other in a circle.
 */
export async function countVerificationAttempt(
  db: Db,
  id: string,
  limits: Pick<RecipientLimits, 'maxFailures' | 'failureWindowEndsAt' | 'at'>,
  /** The purposes the caller verifies: a challenge of another is refused, nothing counted. */
  purposes: readonly OtpChallenge['purpose'][],
): Promise<CountedAttempt> {
  const result = await countAttempt(db, id, limits, purposes);
  const row = result.rows[0];
  if (row === undefined) return { outcome: 'challenge_refused' };
  const { target_recipient_hash, recipient_failures, recipient_failure_window_ends_at, ...challenge } = row;
  if (challenge.id === null || recipient_failures === null || recipient_failure_window_ends_at === null) {
    return { outcome: 'recipient_locked', recipientHash: target_recipient_hash };
  }
  return {
    outcome: 'counted',
    challenge: challenge as CountedChallenge,
    recipientFailures: recipient_failures,
    recipientFailureWindowEndsAt: recipient_failure_window_ends_at,
  };
}

/**
 * Consumes the challenge. The WHERE makes it single-use under concurrency: of several requests
 * holding a correct code, exactly one sees a row come back. In the same statement, the recipient
 * `recipientHash` gets its failure count back (resetRecipientFailures), whether or not the
 * challenge was still there to consume: the code was right.
 */
export async function consumeChallenge(db: Db, id: string, recipientHash: Buffer): Promise<boolean> {
  const result = await consume(db, id, recipientHash);
  return result.numAffectedRows === 1n;
}

const consume = compiledOnce(
  2,
  (_db, id: string, recipientHash: Buffer) => sql`
    WITH reset AS (
      UPDATE otp_recipient_windows SET failure_count = 0, failure_window_ends_at = NULL
      WHERE recipient_hash = ${recipientHash}::bytea AND failure_count > 0
    )
    UPDATE otp_challenges SET status = 'verified', verified_at = now()
    WHERE id = ${id}::uuid AND status = 'pending' AND expires_at > now()
  `,
);

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
