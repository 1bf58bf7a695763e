import { type Kysely, sql } from 'kysely';
import type { CodeOutboxRow, Database, DeliveryOutboxRow, NewDeliveryOutboxRow } from './database.ts';

type Db = Kysely<Database>;

/**
 * Written in the same transaction as the challenge (or its resend): the transactional outbox. The
 * partition key is the challenge's created_at, read from its row: one challenge's sends share a
 * partition, whose unique indexes then refuse a second row for a send (or a job id).
 */
export async function insertOutboxMessage(trx: Db, row: NewDeliveryOutboxRow): Promise<void> {
  const challengeId = row.challenge_id ?? null;
  await trx
    .insertInto('delivery_outbox')
    .values({
      ...row,
      owner_created_at: sql<Date>`(SELECT created_at FROM otp_challenges WHERE id = ${challengeId}::uuid)`,
    })
    .execute();
}

/**
 * Claims due pending rows for this transaction. SKIP LOCKED lets relays on several replicas
 * work side by side: a row being relayed by one is invisible to the others.
 */
export async function claimPendingOutbox(trx: Db, limit: number): Promise<DeliveryOutboxRow[]> {
  return trx
    .selectFrom('delivery_outbox')
    .selectAll()
    .where('status', '=', 'pending')
    .where('available_at', '<=', sql<Date>`now()`)
    .orderBy('available_at')
    .limit(limit)
    .forUpdate()
    .skipLocked()
    .execute();
}

export async function markOutboxDispatched(trx: Db, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await trx
    .updateTable('delivery_outbox')
    .set({ status: 'dispatched', dispatched_at: sql<Date>`now()` })
    .where('id', 'in', ids)
    .execute();
}

/** Puts rows back for a later try after the queue refused them (e.g. Redis down). */
export async function deferOutbox(trx: Db, ids: string[], error: string, delayMs: number): Promise<void> {
  if (ids.length === 0) return;
  await trx
    .updateTable('delivery_outbox')
    .set((eb) => ({
      relay_attempts: eb('relay_attempts', '+', 1),
      last_error: error,
      available_at: sql<Date>`now() + make_interval(secs => ${delayMs / 1000})`,
    }))
    .where('id', 'in', ids)
    .execute();
}

/**
 * Sends that were handed to the queue but show no sign of life: the challenge is still pending,
 * the send is its latest, and its delivery has stayed `queued` or `sending` since `quietSince`. Their job may
 * have been lost with Redis's data (a restart without persistence, a failover); the reconciler
 * checks each one against the queue. Driven from the unexpired challenges (indexed by expiry), so
 * the scan is bounded by the codes of the last few minutes, not by the whole outbox. Code rows
 * only (the join on the challenge): a notice has no challenge, and is not reconciled.
 */
export async function findQuietDispatchedSends(db: Db, quietSince: Date, limit: number): Promise<CodeOutboxRow[]> {
  return (
    db
      .selectFrom('otp_challenges as c')
      .innerJoin('delivery_outbox as o', (join) =>
        join.onRef('o.challenge_id', '=', 'c.id').onRef('o.send_number', '=', 'c.send_count'),
      )
      .selectAll('o')
      .where('c.expires_at', '>', sql<Date>`now()`)
      .where('c.status', '=', 'pending')
      // `sending` too: a worker may have taken the job just before Redis lost it.
      .where('c.delivery_status', 'in', ['queued', 'sending'])
      .where('c.delivery_updated_at', '<', quietSince)
      .where('o.status', '=', 'dispatched')
      .where('o.kind', '=', 'code')
      .limit(limit)
      .execute() as Promise<CodeOutboxRow[]>
  );
}

/**
 * The notices' counterpart: dispatched notice rows whose notification still reads `queued` and
 * has said nothing since `quietSince`, created after `createdSince` (a bound on the scan, by the
 * notifications' created_at index). The reconciler checks each one against the queue.
 */
export async function findQuietDispatchedNotices(
  db: Db,
  quietSince: Date,
  createdSince: Date,
  limit: number,
): Promise<DeliveryOutboxRow[]> {
  return db
    .selectFrom('notifications as n')
    .innerJoin('delivery_outbox as o', 'o.notification_id', 'n.id')
    .selectAll('o')
    .where('n.created_at', '>', createdSince)
    .where('n.status', '=', 'queued')
    .where('n.updated_at', '<', quietSince)
    .where('o.status', '=', 'dispatched')
    .limit(limit)
    .execute();
}

/** Makes every deferred row due now (the queue is back: no reason to wait out their backoff). */
export async function releaseDeferredOutbox(db: Db): Promise<number> {
  const result = await db
    .updateTable('delivery_outbox')
    .set({ available_at: sql<Date>`now()` })
    .where('status', '=', 'pending')
    .where('available_at', '>', sql<Date>`now()`)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Age in seconds of the oldest row still waiting for the relay (0 when none). */
export async function oldestPendingOutboxAgeSeconds(db: Db): Promise<number> {
  const row = await db
    .selectFrom('delivery_outbox')
    .select(sql<string>`coalesce(extract(epoch FROM now() - min(created_at)), 0)`.as('age'))
    .where('status', '=', 'pending')
    .executeTakeFirstOrThrow();
  return Number(row.age);
}
