import { type Kysely, sql } from 'kysely';

// Frozen once it has run: change the schema in a new migration.

// Security notices (emails about an account's security: a new sign-in, a factor changed...):
// - notifications: one row per notice, the worker's record of whether it went out (a notice has
//   no challenge to record it on), deleted with its account;
// - delivery_outbox carries notices too: `kind` says which, a notice row names its notification
//   and no challenge or send, a code row the reverse (the CHECK holds every row to one shape).
// biome-ignore lint/suspicious/noExplicitAny: a migration is frozen in time and must not depend on today's types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('notifications')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('user_id', 'uuid', (col) => col.notNull().references('users.id').onDelete('cascade'))
    .addColumn('template', 'text', (col) => col.notNull())
    .addColumn('channel', 'text', (col) => col.notNull().defaultTo('email'))
    .addColumn('status', 'text', (col) =>
      col.notNull().defaultTo('queued').check(sql`status IN ('queued', 'sent', 'failed')`),
    )
    .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('provider_message_id', 'text')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('sent_at', 'timestamptz')
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('notifications_user').on('notifications').column('user_id').execute();
  // The purge deletes by age.
  await db.schema.createIndex('notifications_created_at').on('notifications').column('created_at').execute();

  await db.schema
    .alterTable('delivery_outbox')
    .addColumn('kind', 'text', (col) => col.notNull().defaultTo('code').check(sql`kind IN ('code', 'notice')`))
    .execute();
  await db.schema
    .alterTable('delivery_outbox')
    .addColumn('notification_id', 'uuid', (col) => col.references('notifications.id').onDelete('cascade'))
    .execute();
  await sql`ALTER TABLE delivery_outbox ALTER COLUMN challenge_id DROP NOT NULL`.execute(db);
  await sql`ALTER TABLE delivery_outbox ALTER COLUMN send_number DROP NOT NULL`.execute(db);
  await sql`ALTER TABLE delivery_outbox ADD CONSTRAINT delivery_outbox_kind_ids CHECK (
    (kind = 'code' AND challenge_id IS NOT NULL AND send_number IS NOT NULL AND notification_id IS NULL)
    OR (kind = 'notice' AND notification_id IS NOT NULL AND challenge_id IS NULL AND send_number IS NULL)
  )`.execute(db);
  await sql`CREATE UNIQUE INDEX delivery_outbox_notification ON delivery_outbox (notification_id)
    WHERE notification_id IS NOT NULL`.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: as above
export async function down(db: Kysely<any>): Promise<void> {
  await sql`DELETE FROM delivery_outbox WHERE kind = 'notice'`.execute(db);
  await sql`DROP INDEX IF EXISTS delivery_outbox_notification`.execute(db);
  await sql`ALTER TABLE delivery_outbox DROP CONSTRAINT delivery_outbox_kind_ids`.execute(db);
  await sql`ALTER TABLE delivery_outbox ALTER COLUMN send_number SET NOT NULL`.execute(db);
  await sql`ALTER TABLE delivery_outbox ALTER COLUMN challenge_id SET NOT NULL`.execute(db);
  await db.schema.alterTable('delivery_outbox').dropColumn('notification_id').execute();
  await db.schema.alterTable('delivery_outbox').dropColumn('kind').execute();
  await db.schema.dropTable('notifications').execute();
}
