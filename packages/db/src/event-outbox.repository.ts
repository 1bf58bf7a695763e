import { type Kysely, sql } from 'kysely';
import { compiledOnce } from './compiled-once.ts';
import type { Database, EventOutboxRow } from './database.ts';
import { WRITE_BEHIND } from './prepared-pool.ts';
import type { SecurityEventRow } from './security-event.repository.ts';

type Db = Kysely<Database>;

/** One event as its writer hands it over: the outbox row, but for the relay's bookkeeping. */
export interface NewEvent {
  id: string;
  type: string;
  occurredAt: Date;
  data: Record<string, unknown>;
}

/**
 * Writes events to the outbox on the caller's handle: inside a transaction they commit with the
 * change they report, or not at all.
 */
export async function insertEvents(db: Db, events: readonly NewEvent[]): Promise<void> {
  if (events.length === 0) return;
  await db.insertInto('event_outbox').values(outboxValues(events)).execute();
}

function outboxValues(events: readonly NewEvent[]) {
  return events.map((event) => ({
    id: event.id,
    type: event.type,
    occurred_at: event.occurredAt,
    data: JSON.stringify(event.data),
  }));
}

/**
 * Events as one jsonb array for `jsonb_to_recordset(...) AS e(id uuid, type text, occurred_at
 * timestamptz, data jsonb)`: any number of them in one parameter of a constant-text statement.
 */
export function eventRowsJson(events: readonly NewEvent[]): string {
  return JSON.stringify(
    events.map((event) => ({
      id: event.id,
      type: event.type,
      occurred_at: event.occurredAt.toISOString(),
      data: event.data,
    })),
  );
}

/**
 * Events' rows in ONE statement: their audit rows and their webhook events, so they commit
 * together without a transaction of their own, and recording costs one round trip to Postgres
 * instead of one per table (or four, with BEGIN and COMMIT). The rows travel as two jsonb arrays,
 * so the statement's text is the same for any number of them: one prepared statement, planned
 * once per connection, and built once by the query builder (the profile of `pnpm bench` showed
 * building and compiling statements among the verify path's largest costs).
 */
export async function insertAuditAndEvents(
  db: Db,
  audits: readonly SecurityEventRow[],
  events: readonly NewEvent[],
  /**
   * `writeBehind`: in a transaction, the rows are written with its next statement (its COMMIT),
   * not in a round trip of their own; an error then fails that statement (prepared-pool.ts).
   */
  options: { writeBehind?: boolean } = {},
): Promise<void> {
  if (audits.length === 0 && events.length === 0) return;
  const auditRows = JSON.stringify(
    audits.map((audit) => ({
      type: audit.type,
      user_id: audit.userId,
      ip: audit.ip,
      user_agent: audit.userAgent,
      request_id: audit.requestId,
      details: audit.details,
    })),
  );
  const eventRows = eventRowsJson(events);
  await auditAndEvents[options.writeBehind === true ? 'writeBehind' : 'plain'](db, auditRows, eventRows);
}

/** The statement, built once (compiledOnce) with its prefix: none, or WRITE_BEHIND. */
const auditAndEventsStatement = (prefix: string) =>
  compiledOnce(
    2,
    (_db, auditRows: string, eventRows: string) => sql`${sql.raw(prefix)}
    WITH audit AS (
      INSERT INTO security_events (type, user_id, ip, user_agent, request_id, details)
      SELECT a.type, a.user_id, a.ip, a.user_agent, a.request_id, a.details
      FROM jsonb_to_recordset(${auditRows}::jsonb)
        AS a(type text, user_id uuid, ip text, user_agent text, request_id text, details jsonb)
    )
    INSERT INTO event_outbox (id, type, occurred_at, data)
    SELECT e.id, e.type, e.occurred_at, e.data
    FROM jsonb_to_recordset(${eventRows}::jsonb) AS e(id uuid, type text, occurred_at timestamptz, data jsonb)
  `,
  );
const auditAndEvents = { plain: auditAndEventsStatement(''), writeBehind: auditAndEventsStatement(WRITE_BEHIND) };

/**
 * Claims due pending events for this transaction, oldest first. SKIP LOCKED lets the relays of
 * several webhook-worker replicas work side by side: a row one is relaying is invisible to the
 * others.
 */
export async function claimPendingEvents(trx: Db, limit: number): Promise<EventOutboxRow[]> {
  return trx
    .selectFrom('event_outbox')
    .selectAll()
    .where('status', '=', 'pending')
    .where('available_at', '<=', sql<Date>`now()`)
    .orderBy('available_at')
    .limit(limit)
    .forUpdate()
    .skipLocked()
    .execute();
}

export async function markEventsDispatched(trx: Db, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await trx
    .updateTable('event_outbox')
    .set({ status: 'dispatched', dispatched_at: sql<Date>`now()` })
    .where('id', 'in', ids)
    .execute();
}

/** Puts events back for a later try after the queue refused them (Redis down). */
export async function deferEvents(trx: Db, ids: readonly string[], error: string, delayMs: number): Promise<void> {
  if (ids.length === 0) return;
  await trx
    .updateTable('event_outbox')
    .set((eb) => ({
      relay_attempts: eb('relay_attempts', '+', 1),
      last_error: error,
      available_at: sql<Date>`now() + make_interval(secs => ${delayMs / 1000})`,
    }))
    .where('id', 'in', ids)
    .execute();
}

/** Makes every deferred event due now (the queue is back). */
export async function releaseDeferredEvents(db: Db): Promise<number> {
  const result = await db
    .updateTable('event_outbox')
    .set({ available_at: sql<Date>`now()` })
    .where('status', '=', 'pending')
    .where('available_at', '>', sql<Date>`now()`)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Age in seconds of the oldest event still waiting for the relay (0 when none). */
export async function oldestPendingEventAgeSeconds(db: Db): Promise<number> {
  const row = await db
    .selectFrom('event_outbox')
    .select(sql<string>`coalesce(extract(epoch FROM now() - min(occurred_at)), 0)`.as('age'))
    .where('status', '=', 'pending')
    .executeTakeFirstOrThrow();
  return Number(row.age);
}

/**
 * Deletes relayed events that occurred before `dispatchedBefore` (their jobs carry them from
 * there), and events nobody relayed that occurred before `pendingBefore` (no webhook worker ran
 * for that long: past it an event is too old to be worth sending). Returns the rows deleted.
 */
export async function purgeEventOutbox(
  db: Db,
  cutoffs: { dispatchedBefore: Date; pendingBefore: Date },
): Promise<number> {
  const result = await db
    .deleteFrom('event_outbox')
    .where((eb) =>
      eb.or([
        eb.and([eb('status', '=', 'dispatched'), eb('occurred_at', '<', cutoffs.dispatchedBefore)]),
        eb('occurred_at', '<', cutoffs.pendingBefore),
      ]),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
