import { type Kysely, sql } from 'kysely';
import type { Database } from './database.ts';

type Db = Kysely<Database>;

/**
 * The history tables' partitions (migration 2026_12_11_0001_partitioned_history, docs/
 * scaling-postgres.md "Partitioned history"): otp_challenges, delivery_attempts and
 * delivery_outbox by the challenge's day, security_events by week. The DDL is in the database's
 * own functions, so the migration and this maintenance make partitions the same way.
 */

/**
 * A bound on waiting for a table lock: creating a partition (ATTACH) waits for no reader, but
 * dropping one takes the parent's ACCESS EXCLUSIVE lock, and every query on the parent queues
 * behind a waiting DROP. Past this the maintenance gives up and tries again on its next run.
 */
const LOCK_TIMEOUT = '2s';

/**
 * Creates the partitions missing up to `daysAhead` days after `at`: one transaction, one call.
 * Returns how many it created (a day's three tables count once, as does a week of events).
 */
export async function createHistoryPartitions(db: Db, at: Date, daysAhead: number): Promise<number> {
  return db.transaction().execute(async (trx) => {
    await sql`SELECT set_config('lock_timeout', ${LOCK_TIMEOUT}, true)`.execute(trx);
    const result = await sql<{ created: number }>`
      SELECT otp_history_create_partitions(${at}::timestamptz, ${daysAhead}::int) AS created`.execute(trx);
    return result.rows[0]?.created ?? 0;
  });
}

export interface DroppedPartitions {
  /** Days of challenges dropped, each with its delivery attempts and outbox rows. */
  challengeDays: number;
  /** Weeks of security events dropped. */
  securityEventWeeks: number;
}

/**
 * Deletes the audit events older than `before` from `security_events_legacy` (the table as it was
 * before partitioning), row by row as the purge did then, and returns how many. That partition's
 * range runs from the start of time to the migration's week, so it goes whole only once its newest
 * event is out of retention, up to the retention after the migration; until then its older rows
 * must not outlive their retention. Nothing once it is gone (dropped, or by another replica now).
 */
export async function purgeLegacySecurityEvents(db: Db, before: Date): Promise<number> {
  const legacy = await sql<{ present: boolean }>`
    SELECT to_regclass('security_events_legacy') IS NOT NULL AS present`.execute(db);
  if (legacy.rows[0]?.present !== true) return 0;
  try {
    const result = await sql`DELETE FROM security_events_legacy WHERE created_at < ${before}`.execute(db);
    return Number(result.numAffectedRows ?? 0);
  } catch (error) {
    // 42P01: dropped between the check and the delete, by another replica's run.
    if ((error as { code?: unknown }).code === '42P01') return 0;
    throw error;
  }
}

/**
 * Drops the partitions wholly out of retention, in one transaction: a day of challenges once its
 * day has ended and its latest `expires_at` is before `challengesExpiredBefore` (its children's
 * partitions first), a week of security events once it ended before `eventsBefore`. Never a row
 * at a time: a partition with one row still in retention stays whole.
 */
export async function dropExpiredHistoryPartitions(
  db: Db,
  at: Date,
  challengesExpiredBefore: Date,
  eventsBefore: Date,
): Promise<DroppedPartitions> {
  return db.transaction().execute(async (trx) => {
    await sql`SELECT set_config('lock_timeout', ${LOCK_TIMEOUT}, true)`.execute(trx);
    const result = await sql<{ challenge_days: number; event_weeks: number }>`
      SELECT challenge_days, event_weeks FROM otp_history_drop_partitions(
        ${at}::timestamptz, ${challengesExpiredBefore}::timestamptz, ${eventsBefore}::timestamptz)`.execute(trx);
    const row = result.rows[0];
    return { challengeDays: row?.challenge_days ?? 0, securityEventWeeks: row?.event_weeks ?? 0 };
  });
}

/**
 * Seconds from now until the newest partition of the challenges or of the security events ends,
 * whichever comes first (0 for a table with none): at 0, inserts find no partition and fail
 * (`otp_history_partition_horizon_seconds`).
 */
export async function historyPartitionHorizonSeconds(db: Db): Promise<number> {
  const result = await sql<{ horizon: string | null }>`
    SELECT extract(epoch FROM least(coalesce(otp_history_partitions_end('otp_challenges'), now()),
      coalesce(otp_history_partitions_end('security_events'), now())) - now()) AS horizon`.execute(db);
  return Number(result.rows[0]?.horizon ?? 0);
}

/** The partitions of a history table with their ranges (lower bound null: from the beginning). */
export async function listHistoryPartitions(
  db: Db,
  table: 'otp_challenges' | 'delivery_attempts' | 'delivery_outbox' | 'security_events',
): Promise<{ name: string; from: Date | null; to: Date }[]> {
  const result = await sql<{ name: string; from: Date | null; to: Date }>`
    SELECT name, nullif(bounds[1], 'MINVALUE')::timestamptz AS "from", bounds[2]::timestamptz AS "to"
    FROM (
      SELECT c.relname AS name,
        regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \\(''?([^'')]+)''?\\) TO \\(''([^'']+)''\\)') AS bounds
      FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = ${table}::regclass
    ) AS p
    ORDER BY 3`.execute(db);
  return result.rows;
}
