import { type Kysely, sql } from 'kysely';
import { compiledOnce } from './compiled-once.ts';
import type { Database, NewDeliveryOutboxRow, NewOtpChallenge, OtpRecipientWindow } from './database.ts';
import { eventRowsJson, type NewEvent } from './event-outbox.repository.ts';
import { type RecipientLimits, takeMessageSlot } from './recipient-window.sql.ts';

type Db = Kysely<Database>;

export type { RecipientLimits } from './recipient-window.sql.ts';

type ChallengeRow = NewOtpChallenge & { code_hashes: Buffer[] };

// Built once (compiledOnce): it runs on every code request.
const challengeWithinLimit = compiledOnce(
  4,
  (_db, c: ChallengeRow, outbox: NewDeliveryOutboxRow, limits: RecipientLimits, eventRows: string) => sql<{
    id: string;
  }>`
    WITH slot AS (
      ${takeMessageSlot(c.recipient_hash, limits)}
    ), challenge AS (
      INSERT INTO otp_challenges (
        id, channel, purpose, recipient_hash, recipient_sealed, recipient_masked, locale, user_id,
        code_hashes, template, status, send_count, attempt_count, max_attempts, max_sends, expires_at,
        resend_available_at, client_ip, delivery_status, delivery_updated_at, created_at, sms_country, sms_range,
        api_key_name
      )
      SELECT ${c.id}::uuid, ${c.channel}::text, ${c.purpose}::text, ${c.recipient_hash}::bytea,
        ${c.recipient_sealed}::text, ${c.recipient_masked}::text, ${c.locale}::text, ${c.user_id}::uuid,
        ${c.code_hashes}::bytea[], ${c.template}::text, ${c.status}::text, ${c.send_count}::int, ${c.attempt_count}::int,
        ${c.max_attempts}::int, ${c.max_sends}::int, ${c.expires_at}::timestamptz,
        ${c.resend_available_at}::timestamptz, ${c.client_ip}::text, ${c.delivery_status}::text,
        ${c.delivery_updated_at}::timestamptz, ${limits.at}::timestamptz, ${c.sms_country}::text,
        ${c.sms_range}::text, ${c.api_key_name}::text
      FROM slot
      RETURNING id, created_at
    ), event AS (
      INSERT INTO event_outbox (id, type, occurred_at, data)
      SELECT e.id, e.type, e.occurred_at, e.data
      FROM challenge,
        jsonb_to_recordset(${eventRows}::jsonb) AS e(id uuid, type text, occurred_at timestamptz, data jsonb)
    )
    INSERT INTO delivery_outbox (challenge_id, owner_created_at, send_number, channel, job_id, job_data)
    SELECT challenge.id, challenge.created_at, ${outbox.send_number}::int, ${outbox.channel}::text,
      ${outbox.job_id}::text, ${outbox.job_data}::jsonb
    FROM challenge
    RETURNING challenge_id AS id
  `,
);

/**
 * Creates a challenge and its first delivery request in ONE statement, provided the recipient
 * has room for a message in its window and is not locked by its failure budget; returns false
 * (and writes nothing) when it has not.
 *
 * One statement is one implicit transaction: the challenge and its outbox row commit together or
 * not at all (the transactional outbox), in one round trip instead of six. The recipient's window
 * row is the lock: the upsert serialises concurrent requests for one recipient across replicas,
 * and Postgres re-checks the WHERE against the latest committed version, so the limit is exact.
 * Every value is cast, since in INSERT ... SELECT nothing else gives the parameters their types.
 *
 * `events` (the request's webhook events) go to the events outbox in the same statement, from
 * the challenge's row: no challenge, no event. A data-modifying CTE runs whether or not the rest
 * of the statement reads it.
 */
export async function createChallengeWithinRecipientLimit(
  db: Db,
  challenge: ChallengeRow,
  outbox: NewDeliveryOutboxRow,
  limits: RecipientLimits,
  events: readonly NewEvent[] = [],
): Promise<boolean> {
  // One jsonb array of the events, read back as rows: any number of them in one parameter.
  const eventRows = eventRowsJson(events);
  // The statement's defaults, given as values (compiledOnce: none in the statement's build).
  const row: ChallengeRow = {
    ...challenge,
    user_id: challenge.user_id ?? null,
    template: challenge.template ?? 'otp-code',
    attempt_count: challenge.attempt_count ?? 0,
    client_ip: challenge.client_ip ?? null,
    sms_country: challenge.sms_country ?? null,
    sms_range: challenge.sms_range ?? null,
    api_key_name: challenge.api_key_name ?? null,
  };
  const result = await challengeWithinLimit(db, row, outbox, limits, eventRows);
  return result.rows.length === 1;
}

/**
 * Takes one message slot for a resend, in the resend's transaction (after the challenge's row
 * lock: every statement that holds both takes the challenge first, so none waits in a circle).
 * Returns false, having changed nothing, when the window is full or the recipient is locked.
 */
export async function takeRecipientSlot(trx: Db, recipientHash: Buffer, limits: RecipientLimits): Promise<boolean> {
  const result = await takeMessageSlot(recipientHash, limits).execute(trx);
  return result.rows.length === 1;
}

/** The recipients' window rows (those that exist), to say why one was refused or when it is locked. */
export async function findRecipientWindows(db: Db, recipientHashes: Buffer[]): Promise<OtpRecipientWindow[]> {
  if (recipientHashes.length === 0) return [];
  return db.selectFrom('otp_recipient_windows').selectAll().where('recipient_hash', 'in', recipientHashes).execute();
}

/**
 * A right code for the recipient: its failure count starts again from nothing (the unit the
 * right code took is given back with the others).
 */
export async function resetRecipientFailures(db: Db, recipientHash: Buffer): Promise<void> {
  await db
    .updateTable('otp_recipient_windows')
    .set({ failure_count: 0, failure_window_ends_at: null })
    .where('recipient_hash', '=', recipientHash)
    .where('failure_count', '>', 0)
    .execute();
}

/**
 * Deletes windows that count nothing any more: no message since `before` (the message window's
 * length ago) and no failure window running at `at`, since the row is also the recipient's lock
 * and its count of wrong codes, which must outlive the shorter message window.
 */
export async function purgeRecipientWindows(db: Db, before: Date, at: Date): Promise<number> {
  const result = await db
    .deleteFrom('otp_recipient_windows')
    .where('updated_at', '<', before)
    .where((eb) => eb.or([eb('failure_window_ends_at', 'is', null), eb('failure_window_ends_at', '<=', at)]))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
