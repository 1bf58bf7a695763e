import { type Kysely, sql } from 'kysely';
import type { Database, NewDeliveryOutboxRow, NewNotification, Notification } from './database.ts';

type Db = Kysely<Database>;

/**
 * Where an account's notices go: its email once verified, else nowhere (and its phone, for the
 * facts), and in what language (its last sign-in's; null: none recorded).
 */
export interface NoticeAddress {
  email: string | null;
  phone: string | null;
  locale: string | null;
}

/** The account's verified email (null when it has none), its phone and its locale, read in the caller's transaction. */
export async function findNoticeAddress(db: Db, userId: string): Promise<NoticeAddress | undefined> {
  const row = await db
    .selectFrom('users')
    .select(['email', 'email_verified_at', 'phone', 'locale'])
    .where('id', '=', userId)
    .executeTakeFirst();
  if (row === undefined) return undefined;
  return { email: row.email_verified_at === null ? null : row.email, phone: row.phone, locale: row.locale };
}

/**
 * A notice and its delivery request, in the caller's transaction (the transactional outbox): the
 * notice goes out if and only if the change it reports commits.
 */
export async function insertNotice(
  trx: Db,
  notification: NewNotification,
  outbox: Omit<NewDeliveryOutboxRow, 'kind' | 'challenge_id' | 'send_number' | 'notification_id'>,
): Promise<void> {
  await trx.insertInto('notifications').values(notification).execute();
  await trx
    .insertInto('delivery_outbox')
    .values({
      ...outbox,
      kind: 'notice',
      notification_id: notification.id,
      // The partition key: the notification's created_at (a partition's foreign key holds it to it).
      owner_created_at: sql<Date>`(SELECT created_at FROM notifications WHERE id = ${notification.id}::uuid)`,
    })
    .execute();
}

export async function findNotification(db: Db, id: string): Promise<Notification | undefined> {
  return db.selectFrom('notifications').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * The provider has the notice. Conditional on it not being recorded sent already, so a retried
 * write-back (or a duplicate job) changes nothing; a `failed` notice that went out after all is
 * sent. Returns whether it moved.
 */
export async function markNotificationSent(
  db: Db,
  id: string,
  providerMessageId: string | null,
  locale: string | null = null,
): Promise<boolean> {
  const result = await db
    .updateTable('notifications')
    .set({
      status: 'sent',
      provider_message_id: providerMessageId,
      locale,
      sent_at: sql`now()`,
      updated_at: sql`now()`,
    })
    .where('id', '=', id)
    .where('status', '<>', 'sent')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/**
 * A failed attempt: counted, its error kept; `final` (a permanent failure or the last attempt)
 * marks the notice failed. A notice recorded sent meanwhile is left alone.
 */
export async function recordNotificationFailure(db: Db, id: string, error: string, final: boolean): Promise<void> {
  await db
    .updateTable('notifications')
    .set((eb) => ({
      attempts: eb('attempts', '+', 1),
      last_error: error,
      updated_at: sql`now()`,
      ...(final ? { status: 'failed' as const } : {}),
    }))
    .where('id', '=', id)
    .where('status', '<>', 'sent')
    .execute();
}

/** An operator retries a failed notice: back to `queued` (a sent or deleted one stays as it is). */
export async function reopenNotification(db: Db, id: string): Promise<boolean> {
  const result = await db
    .updateTable('notifications')
    .set({ status: 'queued', last_error: null, updated_at: sql`now()` })
    .where('id', '=', id)
    .where('status', '<>', 'sent')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Deletes notices created before `before`; their outbox rows go with them (foreign key). */
export async function purgeOldNotifications(db: Db, before: Date): Promise<number> {
  const result = await db.deleteFrom('notifications').where('created_at', '<', before).executeTakeFirst();
  return Number(result.numDeletedRows);
}
