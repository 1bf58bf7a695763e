import { type RawBuilder, sql } from 'kysely';

// SQL shared by the statements that write a recipient's window row (`otp_recipient_windows AS
// w`): new challenges and resends take a message slot, verifications a unit of the failure
// budget. Internal to this package; the repositories export the statements.

/** The limits of one recipient at one moment, as the gateway's configuration sets them. */
export interface RecipientLimits {
  /** Messages (new challenges and resends) allowed per recipient within the window. */
  limit: number;
  /** Messages sent at or before this time no longer count. */
  windowStart: Date;
  /** Wrong codes allowed per recipient within a failure window. */
  maxFailures: number;
  /** Where a failure window begun now ends (a fixed window from the first counted failure). */
  failureWindowEndsAt: Date;
  /** Now: the message's time, and the clock the failure window is read against. */
  at: Date;
}

/**
 * True while the recipient may take one more wrong code: no failure window running, or room
 * left in it. Its negation is the lock: `maxFailures` counted and the window not over. Casts
 * everywhere, since these statements are prepared and nothing else gives parameters a type.
 */
export function failureBudgetLeft(limits: Pick<RecipientLimits, 'maxFailures' | 'at'>): RawBuilder<boolean> {
  return sql<boolean>`(w.failure_window_ends_at IS NULL
    OR w.failure_window_ends_at <= ${limits.at}::timestamptz
    OR w.failure_count < ${limits.maxFailures}::int)`;
}

/**
 * Takes one message slot in the recipient's window, or nothing: an upsert whose DO UPDATE runs
 * only while the window has room and the recipient is not locked. The conflicting row is locked
 * and its WHERE checked against the latest committed version, so concurrent requests for one
 * recipient take turns on the row across replicas and the limit is exact. Returns one row when
 * the slot was taken.
 */
export function takeMessageSlot(recipientHash: Buffer, limits: RecipientLimits): RawBuilder<unknown> {
  const counted = sql`ARRAY(SELECT t FROM unnest(w.recent) AS t WHERE t > ${limits.windowStart}::timestamptz ORDER BY t)`;
  return sql`
    INSERT INTO otp_recipient_windows AS w (recipient_hash, recent, updated_at)
    VALUES (${recipientHash}::bytea, ARRAY[${limits.at}::timestamptz], ${limits.at}::timestamptz)
    ON CONFLICT (recipient_hash) DO UPDATE
      SET recent = array_append(${counted}, ${limits.at}::timestamptz),
          updated_at = ${limits.at}::timestamptz
      WHERE cardinality(${counted}) < ${limits.limit}::int AND ${failureBudgetLeft(limits)}
    RETURNING 1`;
}
