import { type Kysely, sql } from 'kysely';
import type { Database, SmsBreaker } from './database.ts';

type Db = Kysely<Database>;

/** The outcome of an ended SMS challenge, as the conversion breaker counts it. */
export interface SmsOutcome {
  range: string;
  country: string;
  /** true: the code was verified; false: the challenge expired or was locked unverified. */
  verified: boolean;
}

/**
 * Claims up to `limit` SMS challenges that have ended (verified, locked, or pending past their
 * expiry) and whose outcome was not counted yet, marks them counted and returns their outcomes,
 * oldest first. Rows another replica is claiming are skipped (SKIP LOCKED), so each outcome is
 * counted once. A challenge whose delivery failed is marked but not returned: it says nothing of
 * whether people verify codes sent to its range. Pending challenges are left alone: a burst of
 * real users whose codes are on their way counts for nothing until they verify or expire.
 */
export async function claimEndedSmsOutcomes(db: Db, at: Date, limit: number): Promise<SmsOutcome[]> {
  const result = await sql<{ sms_range: string | null; sms_country: string | null; status: string; created_at: Date }>`
    WITH ended AS (
      SELECT id
      FROM otp_challenges
      WHERE channel = 'sms' AND outcome_counted_at IS NULL
        AND (status <> 'pending' OR expires_at <= ${at}::timestamptz)
      ORDER BY expires_at
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    )
    UPDATE otp_challenges c SET outcome_counted_at = ${at}::timestamptz
    FROM ended
    WHERE c.id = ended.id
    RETURNING c.sms_range, c.sms_country, c.status, c.created_at
  `.execute(db);
  return result.rows
    .sort((a, b) => a.created_at.getTime() - b.created_at.getTime())
    .filter((row) => row.status !== 'failed' && row.sms_range !== null && row.sms_country !== null)
    .map((row) => ({
      range: row.sms_range as string,
      country: row.sms_country as string,
      verified: row.status === 'verified',
    }));
}

export interface BreakerJudgement {
  /** The outcomes now kept (at most `sample`), oldest first. */
  outcomes: boolean[];
  /** Until when it is suspended (null: it is not), as it stood before this append. */
  suspendedUntil: Date | null;
}

/**
 * Appends outcomes to a range's or country's breaker and keeps the latest `sample` of them;
 * returns what is kept, with the row locked for the caller's transaction.
 */
export async function appendSmsOutcomes(
  trx: Db,
  scope: 'range' | 'country',
  key: string,
  outcomes: boolean[],
  sample: number,
): Promise<BreakerJudgement> {
  const row = await sql<{ outcomes: boolean[]; suspended_until: Date | null }>`
    INSERT INTO sms_breakers AS b (scope, key, outcomes)
    VALUES (${scope}::text, ${key}::text, (${sql.val(outcomes)}::boolean[])[greatest(1, ${outcomes.length}::int - ${sample}::int + 1):])
    ON CONFLICT (scope, key) DO UPDATE SET
      outcomes = (b.outcomes || EXCLUDED.outcomes)[greatest(1, cardinality(b.outcomes || EXCLUDED.outcomes) - ${sample}::int + 1):],
      updated_at = now()
    RETURNING outcomes, suspended_until
  `.execute(trx);
  const kept = row.rows[0];
  if (kept === undefined) throw new Error('breaker row not written');
  return { outcomes: kept.outcomes, suspendedUntil: kept.suspended_until };
}

/** Suspends a range or country until `until` and starts its sample afresh. */
export async function suspendSms(trx: Db, scope: 'range' | 'country', key: string, until: Date): Promise<void> {
  await trx
    .updateTable('sms_breakers')
    .set({ suspended_until: until, outcomes: [], trips: sql<number>`trips + 1`, updated_at: sql<Date>`now()` })
    .where('scope', '=', scope)
    .where('key', '=', key)
    .execute();
}

/** The suspensions among these keys still running at `at`. */
export async function findSmsSuspensions(
  db: Db,
  keys: Array<{ scope: 'range' | 'country'; key: string }>,
  at: Date,
): Promise<Array<Pick<SmsBreaker, 'scope' | 'key' | 'suspended_until'>>> {
  if (keys.length === 0) return [];
  return db
    .selectFrom('sms_breakers')
    .select(['scope', 'key', 'suspended_until'])
    .where('suspended_until', '>', at)
    .where((eb) => eb.or(keys.map((k) => eb.and([eb('scope', '=', k.scope), eb('key', '=', k.key)]))))
    .execute();
}

/** How many ranges and countries are suspended at `at`. */
export async function countSmsSuspensions(db: Db, at: Date): Promise<Record<'range' | 'country', number>> {
  const rows = await db
    .selectFrom('sms_breakers')
    .select(['scope', (eb) => eb.fn.countAll<string>().as('count')])
    .where('suspended_until', '>', at)
    .groupBy('scope')
    .execute();
  const counts = { range: 0, country: 0 };
  for (const row of rows) counts[row.scope] = Number(row.count);
  return counts;
}
