import {
  DELIVERY_TRANSITIONS,
  type DeliveryErrorCode,
  type DeliveryTransition,
  type DeliveryTransitionName,
  HANDED_OVER,
} from '@otp/domain';
import { type Kysely, type QueryCreator, sql } from 'kysely';
import pg from 'pg';
import { compiledOnce } from './compiled-once.ts';
import type { Database, NewDeliveryAttempt, OtpChallenge } from './database.ts';
import { challengeCreatedAt } from './delivery-attempt.repository.ts';

type Db = Kysely<Database>;

export interface DeliveryFields {
  /** The error this move records; `null` clears the last one; undefined leaves it as it is. */
  lastError?: DeliveryErrorCode | null;
  /** The provider's id of the message; `null` clears it; undefined leaves it as it is. */
  providerMessageId?: string | null;
  /** Moves only when the send's recorded provider message is this one (a provider's report on it). */
  aboutMessage?: string;
}

/**
 * The one writer of a challenge's delivery status (`otp_challenges.delivery_status`): moves send
 * `sendNumber` of the challenge by the named transition of the domain's table, and resolves with
 * whether it moved. Every condition is in the one UPDATE, so it holds under concurrency: the row
 * moves only if the send is still the challenge's latest (an older send finishing late speaks for
 * nothing) and its status is one the transition may leave. A transition that fails the challenge
 * fails only a pending one; one that reopens it moves only a pending or failed challenge that has
 * not expired.
 */
export async function moveDelivery(
  db: Db,
  challengeId: string,
  sendNumber: number,
  name: DeliveryTransitionName,
  fields: DeliveryFields = {},
): Promise<boolean> {
  const result = await deliveryMove(db, challengeId, sendNumber, name, fields).executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** moveDelivery's UPDATE, unexecuted, so a statement can carry it as a CTE (`recordAttemptAndMove`). */
function deliveryMove(
  db: QueryCreator<Database>,
  challengeId: string,
  sendNumber: number,
  name: DeliveryTransitionName,
  fields: DeliveryFields,
) {
  const transition: DeliveryTransition = DELIVERY_TRANSITIONS[name];
  let update = db
    .updateTable('otp_challenges')
    .set((eb) => ({
      delivery_status: transition.to,
      delivery_updated_at: sql<Date>`now()`,
      ...(fields.lastError === undefined ? {} : { delivery_last_error: fields.lastError }),
      ...(fields.providerMessageId === undefined ? {} : { delivery_provider_message_id: fields.providerMessageId }),
      ...(transition.countsAttempt === true ? { delivery_attempts: eb('delivery_attempts', '+', 1) } : {}),
      ...(transition.failsChallenge === true
        ? { status: sql<'failed'>`CASE WHEN status = 'pending' THEN 'failed' ELSE status END` }
        : {}),
      ...(transition.reopensChallenge === true
        ? { status: sql<'pending'>`CASE WHEN status = 'failed' THEN 'pending' ELSE status END` }
        : {}),
    }))
    .where('id', '=', challengeId)
    .where('send_count', '=', sendNumber)
    .where('delivery_status', 'in', transition.from);
  if (transition.reopensChallenge === true) {
    update = update.where('status', 'in', ['pending', 'failed']).where('expires_at', '>', sql<Date>`now()`);
  }
  if (fields.aboutMessage !== undefined) {
    update = update.where('delivery_provider_message_id', '=', fields.aboutMessage);
  }
  return update;
}

const FIELD_KEYS = ['lastError', 'providerMessageId', 'aboutMessage'] as const;
type RecordAndMove = (db: Db, ...values: unknown[]) => Promise<{ rows: { moved: boolean }[] }>;
const recordAndMoveStatements = new Map<string, RecordAndMove>();

/** The attempt's defined values, then the fields' defined values, in the order of their shape. */
function recordAndMoveValues(attempt: NewDeliveryAttempt, fields: DeliveryFields): unknown[] {
  const values: unknown[] = [];
  for (const value of Object.values(attempt)) if (value !== undefined) values.push(value);
  for (const key of FIELD_KEYS) if (fields[key] !== undefined) values.push(fields[key]);
  return values;
}

/**
 * recordAttemptAndMove's statement for the shape of its arguments (the transition, which
 * attempt columns and which fields are given), compiled once per shape (compiledOnce).
 */
function recordAndMoveStatement(attempt: NewDeliveryAttempt, name: DeliveryTransitionName, fields: DeliveryFields) {
  const columns = Object.keys(attempt).filter((key) => attempt[key as keyof NewDeliveryAttempt] !== undefined);
  const given = FIELD_KEYS.filter((key) => fields[key] !== undefined);
  const shape = `${name}|${columns.join(',')}|${given.join(',')}`;
  let statement = recordAndMoveStatements.get(shape);
  if (statement === undefined) {
    statement = compiledOnce(columns.length + given.length, (db, ...values: unknown[]) => {
      const row = Object.fromEntries(columns.map((column, i) => [column, values[i]])) as unknown as NewDeliveryAttempt;
      const slotFields = Object.fromEntries(given.map((key, i) => [key, values[columns.length + i]])) as DeliveryFields;
      return db
        .with('moved', (qc) => deliveryMove(qc, row.challenge_id, row.send_number, name, slotFields).returning('id'))
        .insertInto('delivery_attempts')
        .values({ ...row, challenge_created_at: row.challenge_created_at ?? challengeCreatedAt(row.challenge_id) })
        .returning(sql<boolean>`(SELECT count(*) FROM moved) = 1`.as('moved'));
    }) as RecordAndMove;
    recordAndMoveStatements.set(shape, statement);
  }
  return statement;
}

/**
 * Writes a `delivery_attempts` row and moves the send's delivery status (as moveDelivery) in ONE
 * statement: the UPDATE is a CTE of the INSERT. A single statement is atomic on its own, so both
 * land or neither does, as in a transaction, in one round trip instead of BEGIN, INSERT, UPDATE,
 * COMMIT. Resolves `challenge_missing` when the challenge is gone (deleted, with its account):
 * the attempt's foreign key fails, the statement rolls back and there is nothing to record on;
 * otherwise `moved` says whether the status moved (the attempt is recorded either way).
 */
export async function recordAttemptAndMove(
  db: Db,
  attempt: NewDeliveryAttempt,
  name: DeliveryTransitionName,
  fields: DeliveryFields = {},
): Promise<{ outcome: 'recorded'; moved: boolean } | { outcome: 'challenge_missing' }> {
  try {
    const row = (await recordAndMoveStatement(attempt, name, fields)(db, ...recordAndMoveValues(attempt, fields)))
      .rows[0];
    if (row === undefined) throw new Error('recordAttemptAndMove: no row returned');
    return { outcome: 'recorded', moved: row.moved };
  } catch (error) {
    if (isChallengeMissing(error)) return { outcome: 'challenge_missing' };
    throw error;
  }
}

/**
 * The attempt's challenge is gone (deleted, with its account): its partition key came back NULL,
 * which no partition takes (23514 on delivery_attempts), or the challenge went between the read
 * of the key and the insert, and the partition's foreign key to it failed (23503 on one of
 * delivery_attempts' partitions, or on delivery_attempts_legacy by its old foreign key).
 */
function isChallengeMissing(error: unknown): boolean {
  if (!(error instanceof pg.DatabaseError)) return false;
  if (error.code === '23514') return error.table === 'delivery_attempts';
  return error.code === '23503' && error.table?.startsWith('delivery_attempts') === true;
}

/** The columns of a challenge the delivery worker reads: the refusal rule's, the message's, the failed event's. */
const CHALLENGE_TO_SEND_COLUMNS = [
  'id',
  'channel',
  'purpose',
  'recipient_masked',
  'user_id',
  'status',
  'expires_at',
  'attempt_count',
  'max_attempts',
  'send_count',
  'delivery_status',
  'sms_country',
] as const satisfies readonly (keyof OtpChallenge)[];

/**
 * The challenge's created_at as Postgres prints it, exact to the microsecond (a Date keeps
 * milliseconds): the partition key of its delivery attempts (`challenge_created_at`), which the
 * worker passes back with its attempt rows instead of having each insert look the challenge up by
 * id in every day's partition.
 */
const CREATED_AT_KEY = sql<string>`created_at::text`.as('created_at_key');

/** A challenge as the delivery worker reads it (`takeChallengeToSend`): only the columns it uses. */
export type ChallengeToSend = Pick<OtpChallenge, (typeof CHALLENGE_TO_SEND_COLUMNS)[number]> & {
  created_at_key: string;
};

export interface ChallengeTake {
  /** The row: as the move left it when `taken`, else as the statement read it; undefined when missing. */
  challenge: ChallengeToSend | undefined;
  /** Whether this statement moved the send to `sending` (the `taken` transition). */
  taken: boolean;
}

// The worker's statements before a send, built once (compiledOnce): they run once per job.
const readToSend = compiledOnce(1, (db, challengeId: string) =>
  db
    .selectFrom('otp_challenges')
    .select([...CHALLENGE_TO_SEND_COLUMNS, CREATED_AT_KEY])
    .where('id', '=', challengeId),
);
const takeToSend = compiledOnce(3, (db, challengeId: string, sendNumber: number, now: Date) =>
  db
    .with('taken', (qc) =>
      deliveryMove(qc, challengeId, sendNumber, 'taken', {})
        .where('status', '=', 'pending')
        .where('expires_at', '>', sql<Date>`${now}::timestamptz + interval '1 millisecond'`)
        .where((eb) => eb('attempt_count', '<', eb.ref('max_attempts')))
        .where('delivery_status', 'not in', HANDED_OVER)
        .returning([...CHALLENGE_TO_SEND_COLUMNS, CREATED_AT_KEY]),
    )
    .selectFrom('taken')
    .select([...CHALLENGE_TO_SEND_COLUMNS, 'created_at_key', sql<boolean>`true`.as('taken')])
    .unionAll((eb) =>
      eb
        .selectFrom('otp_challenges')
        .select([...CHALLENGE_TO_SEND_COLUMNS, CREATED_AT_KEY, sql<boolean>`false`.as('taken')])
        .where('id', '=', challengeId)
        .where(sql<boolean>`NOT EXISTS (SELECT 1 FROM taken)`),
    ),
);

/**
 * The delivery worker's read of a challenge before a send, in one round trip. With `take`, the
 * same statement also moves the send by the `taken` transition (moveDelivery's conditions), but
 * only when the row passes the domain's `sendRefusal` at `now` as well, written in SQL: stored
 * status `pending`, `expires_at` more than 1 ms after `now` (the row reaches JavaScript at
 * millisecond precision; the margin makes "moved" imply "sendRefusal at `now` allows it" on the
 * returned row, whatever the microseconds), attempts left, the job's send the latest, not handed
 * over. When it moved, the row returned is the one the UPDATE saw (RETURNING), so the caller's
 * `sendRefusal` judges the very version that was moved; when it did not, the row read by the same
 * statement. A row the SQL refused by the margin alone comes back untaken though `sendRefusal`
 * may allow it: the caller then moves it as before (`moveDelivery`). Without `take`: the read alone.
 */
export async function takeChallengeToSend(
  db: Db,
  challengeId: string,
  sendNumber: number,
  options: { now: Date; take: boolean },
): Promise<ChallengeTake> {
  if (!options.take) {
    const [challenge] = (await readToSend(db, challengeId)).rows;
    return { challenge, taken: false };
  }
  const [row] = (await takeToSend(db, challengeId, sendNumber, options.now)).rows;
  if (row === undefined) return { challenge: undefined, taken: false };
  const { taken, ...challenge } = row;
  return { challenge, taken };
}
