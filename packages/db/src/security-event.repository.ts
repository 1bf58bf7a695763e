import type { Kysely } from 'kysely';
import type { Database, SecurityEvent } from './database.ts';

type Db = Kysely<Database>;

export interface SecurityEventRow {
  type: string;
  userId: string | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  details: Record<string, unknown>;
}

/** Appends one event to the audit trail. */
export async function insertSecurityEvent(db: Db, event: SecurityEventRow): Promise<void> {
  await db
    .insertInto('security_events')
    .values({
      type: event.type,
      user_id: event.userId,
      ip: event.ip,
      user_agent: event.userAgent,
      request_id: event.requestId,
      details: JSON.stringify(event.details),
    })
    .execute();
}

/** Events of a type since a time, by IP or by user: the fallback counter of failed sign-ins. */
export async function countSecurityEventsSince(
  db: Db,
  type: string,
  by: { ip: string } | { userId: string },
  since: Date,
): Promise<number> {
  let query = db
    .selectFrom('security_events')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .where('type', '=', type)
    .where('created_at', '>', since);
  query = 'ip' in by ? query.where('ip', '=', by.ip) : query.where('user_id', '=', by.userId);
  const row = await query.executeTakeFirstOrThrow();
  return Number(row.count);
}

/** Which events a page or an export of the audit trail holds. */
export interface SecurityEventFilter {
  userId?: string | undefined;
  type?: string | undefined;
  /** Recorded at or after. */
  since?: Date | undefined;
  /** Recorded before. */
  until?: Date | undefined;
}

export interface SecurityEventPage {
  rows: SecurityEvent[];
  /** The id of the last row when more may follow; undefined at the end. */
  nextBefore: string | undefined;
}

/**
 * One page of the audit trail, newest first, by keyset: the rows with an id below `before` (the
 * last id of the previous page). Ids come from one identity sequence, so a page never repeats or
 * skips a row however many are written meanwhile (new rows have larger ids and are not in a walk
 * already begun). Reads `limit + 1` rows to know whether another page follows.
 */
export async function listSecurityEvents(
  db: Db,
  filter: SecurityEventFilter,
  before: string | undefined,
  limit: number,
): Promise<SecurityEventPage> {
  let query = db.selectFrom('security_events').selectAll();
  if (filter.userId !== undefined) query = query.where('user_id', '=', filter.userId);
  if (filter.type !== undefined) query = query.where('type', '=', filter.type);
  if (filter.since !== undefined) query = query.where('created_at', '>=', filter.since);
  if (filter.until !== undefined) query = query.where('created_at', '<', filter.until);
  if (before !== undefined) query = query.where('id', '<', before);
  const rows = await query
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .execute();
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  return { rows: page, nextBefore: more ? page[page.length - 1]?.id : undefined };
}
