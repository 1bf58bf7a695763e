import {
  DELIVERY_TRANSITIONS,
  type DeliveryErrorCode,
  type DeliveryTransition,
  type DeliveryTransitionName,
} from '@otp/domain';
import { type Kysely, type QueryCreator, sql } from 'kysely';
import pg from 'pg';
import type { Database, NewDeliveryAttempt } from './database.ts';

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
  const { challenge_id: challengeId, send_number: sendNumber } = attempt;
  try {
    const row = await db
      .with('moved', (qc) => deliveryMove(qc, challengeId, sendNumber, name, fields).returning('id'))
      .insertInto('delivery_attempts')
      .values(attempt)
      .returning(sql<boolean>`(SELECT count(*) FROM moved) = 1`.as('moved'))
      .executeTakeFirstOrThrow();
    return { outcome: 'recorded', moved: row.moved };
  } catch (error) {
    // The attempt's one foreign key is its challenge: violated only when the challenge is gone.
    if (error instanceof pg.DatabaseError && error.code === '23503' && error.table === 'delivery_attempts') {
      return { outcome: 'challenge_missing' };
    }
    throw error;
  }
}
