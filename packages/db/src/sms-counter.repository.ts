import { type Kysely, sql } from 'kysely';
import type { Database, SmsCounterPeriod, SmsCounterScope } from './database.ts';

type Db = Kysely<Database>;

/** One counter a send takes a unit of: a scope, its key, a window. */
export interface SmsCounterKey {
  scope: SmsCounterScope;
  key: string;
  period: SmsCounterPeriod;
  windowStart: Date;
}

export interface SmsCount extends SmsCounterKey {
  count: number;
}

function order(a: SmsCounterKey, b: SmsCounterKey): number {
  const left = `${a.scope}\0${a.key}\0${a.period}`;
  const right = `${b.scope}\0${b.key}\0${b.period}`;
  return left < right ? -1 : left > right ? 1 : a.windowStart.getTime() - b.windowStart.getTime();
}

/**
 * Adds one send to each counter and returns the counts with it, in one statement, in the
 * caller's transaction: the rows stay locked until it ends, so concurrent sends on any replica
 * take turns and each sees the others' units; a caller that finds a count past its limit rolls
 * back, and its unit with it. The rows are taken in one fixed order, so no two sends wait for
 * each other in a circle.
 */
export async function takeSmsCounters(trx: Db, keys: SmsCounterKey[]): Promise<SmsCount[]> {
  if (!trx.isTransaction) throw new Error('SMS counters are taken in the transaction that writes the send');
  const sorted = [...keys].sort(order);
  const values = sql.join(
    sorted.map((k) => sql`(${k.scope}::text, ${k.key}::text, ${k.period}::text, ${k.windowStart}::timestamptz, 1)`),
  );
  const result = await sql<{
    scope: SmsCounterScope;
    key: string;
    period: SmsCounterPeriod;
    window_start: Date;
    count: number;
  }>`
    INSERT INTO sms_counters (scope, key, period, window_start, count)
    VALUES ${values}
    ON CONFLICT (scope, key, period, window_start) DO UPDATE SET count = sms_counters.count + 1
    RETURNING scope, key, period, window_start, count
  `.execute(trx);
  return result.rows.map((row) => ({
    scope: row.scope,
    key: row.key,
    period: row.period,
    windowStart: row.window_start,
    count: row.count,
  }));
}

/** The current counts of these counters (0 for a window nothing was sent in). */
export async function readSmsCounters(db: Db, keys: SmsCounterKey[]): Promise<SmsCount[]> {
  if (keys.length === 0) return [];
  const rows = await db
    .selectFrom('sms_counters')
    .select(['scope', 'key', 'period', 'window_start', 'count'])
    .where((eb) =>
      eb.or(
        keys.map((k) =>
          eb.and([
            eb('scope', '=', k.scope),
            eb('key', '=', k.key),
            eb('period', '=', k.period),
            eb('window_start', '=', k.windowStart),
          ]),
        ),
      ),
    )
    .execute();
  return keys.map((k) => {
    const row = rows.find(
      (r) =>
        r.scope === k.scope &&
        r.key === k.key &&
        r.period === k.period &&
        r.window_start.getTime() === k.windowStart.getTime(),
    );
    return { ...k, count: row?.count ?? 0 };
  });
}

/** The day's counts of every country that sent this UTC day, and of `all` (for the budget gauges). */
export async function dailySmsCounts(
  db: Db,
  dayStart: Date,
): Promise<Array<{ scope: SmsCounterScope; key: string; count: number }>> {
  return db
    .selectFrom('sms_counters')
    .select(['scope', 'key', 'count'])
    .where('period', '=', 'day')
    .where('window_start', '=', dayStart)
    .execute();
}

/** Deletes the counters of windows that started before `before` (ended ones: they limit nothing). */
export async function purgeSmsCounters(db: Db, before: Date): Promise<number> {
  const result = await db.deleteFrom('sms_counters').where('window_start', '<', before).executeTakeFirst();
  return Number(result.numDeletedRows);
}
