import { type Kysely, sql } from 'kysely';
import type { Database, NewDeliveryOutboxRow, NewOtpChallenge } from './database.ts';

type Db = Kysely<Database>;

export interface RecipientLimit {
  /** Challenges allowed per recipient within the window. */
  limit: number;
  /** Challenges created at or before this time no longer count. */
  windowStart: Date;
  /** The new challenge's creation time. */
  at: Date;
}

/**
 * Creates a challenge and its first delivery request in ONE statement, provided the recipient
 * has room in its window; returns false (and writes nothing) when it has not.
 *
 * One statement is one implicit transaction: the challenge and its outbox row commit together or
 * not at all (the transactional outbox), in one round trip instead of six. The recipient's window
 * row is the lock: the upsert serialises concurrent requests for one recipient across replicas,
 * and Postgres re-checks the WHERE against the latest committed version, so the limit is exact.
 * Every value is cast, since in INSERT ... SELECT nothing else gives the parameters their types.
 */
export async function createChallengeWithinRecipientLimit(
  db: Db,
  challenge: NewOtpChallenge & { code_hashes: Buffer[] },
  outbox: NewDeliveryOutboxRow,
  window: RecipientLimit,
): Promise<boolean> {
  const c = challenge;
  const result = await sql<{ id: string }>`
    WITH slot AS (
      INSERT INTO otp_recipient_windows AS w (recipient_hash, recent, updated_at)
      VALUES (${c.recipient_hash}, ARRAY[${window.at}::timestamptz], ${window.at})
      ON CONFLICT (recipient_hash) DO UPDATE
        SET recent = array_append(
              ARRAY(SELECT t FROM unnest(w.recent) AS t WHERE t > ${window.windowStart}::timestamptz ORDER BY t),
              ${window.at}::timestamptz),
            updated_at = ${window.at}
        WHERE cardinality(ARRAY(SELECT t FROM unnest(w.recent) AS t WHERE t > ${window.windowStart}::timestamptz))
          < ${window.limit}
      RETURNING 1
    ), challenge AS (
      INSERT INTO otp_challenges (
        id, channel, purpose, recipient_hash, recipient_sealed, recipient_masked, locale, user_id,
        code_hashes, template, status, send_count, attempt_count, max_attempts, max_sends, expires_at,
        resend_available_at, client_ip, delivery_status, delivery_updated_at, created_at
      )
      SELECT ${c.id}::uuid, ${c.channel}::text, ${c.purpose}::text, ${c.recipient_hash}::bytea,
        ${c.recipient_sealed}::text, ${c.recipient_masked}::text, ${c.locale}::text, ${c.user_id ?? null}::uuid,
        ${c.code_hashes}::bytea[], ${c.template ?? 'otp-code'}::text, ${c.status}::text, ${c.send_count}::int, ${c.attempt_count ?? 0}::int,
        ${c.max_attempts}::int, ${c.max_sends}::int, ${c.expires_at}::timestamptz,
        ${c.resend_available_at}::timestamptz, ${c.client_ip ?? null}::text, ${c.delivery_status}::text,
        ${c.delivery_updated_at}::timestamptz, ${window.at}::timestamptz
      FROM slot
      RETURNING id
    )
    INSERT INTO delivery_outbox (challenge_id, send_number, channel, job_id, job_data)
    SELECT challenge.id, ${outbox.send_number}::int, ${outbox.channel}::text, ${outbox.job_id}::text,
      ${outbox.job_data}::jsonb
    FROM challenge
    RETURNING challenge_id AS id
  `.execute(db);
  return result.rows.length === 1;
}

/** When the recipient's oldest counted challenge leaves the window (for Retry-After). */
export async function recipientWindowFreesAt(
  db: Db,
  recipientHash: Buffer,
  window: RecipientLimit & { windowSeconds: number },
): Promise<Date> {
  const row = await db
    .selectFrom('otp_recipient_windows')
    .select(sql<Date[]>`recent`.as('recent'))
    .where('recipient_hash', '=', recipientHash)
    .executeTakeFirst();
  const counted = (row?.recent ?? [])
    .filter((time) => time > window.windowStart)
    .sort((a, b) => a.getTime() - b.getTime());
  // The slot frees when enough of the oldest have aged out to bring the count under the limit.
  const pivot = counted[counted.length - window.limit] ?? counted[0] ?? window.at;
  return new Date(pivot.getTime() + window.windowSeconds * 1000);
}

/** Deletes windows whose newest challenge is older than `before` (they count nothing any more). */
export async function purgeRecipientWindows(db: Db, before: Date): Promise<number> {
  const result = await db.deleteFrom('otp_recipient_windows').where('updated_at', '<', before).executeTakeFirst();
  return Number(result.numDeletedRows);
}
