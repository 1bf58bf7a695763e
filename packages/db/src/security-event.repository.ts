import type { Kysely } from 'kysely';
import type { Database } from './database.ts';

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

/**
 * Deletes audit events recorded before `before`. One statement, like the other purges: the
 * index on `created_at` makes it a range scan, and a replica racing it deletes nothing twice.
 */
export async function deleteSecurityEventsBefore(db: Db, before: Date): Promise<number> {
  const result = await db.deleteFrom('security_events').where('created_at', '<', before).executeTakeFirst();
  return Number(result.numDeletedRows);
}
