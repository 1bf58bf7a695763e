import { type Kysely, sql } from 'kysely';

// Frozen once it has run: change the schema in a new migration.

// Events for the outside world (docs/webhooks.md):
// - event_outbox: one row per event a webhook may carry, written in the transaction of the change
//   it reports (by the gateway, or by a worker for a failed delivery); the webhook worker's relay
//   claims pending rows, adds one job per endpoint to the `webhooks` queue and marks them
//   dispatched. `data` holds ids, masked recipients and metadata only: the rows are read by anyone
//   who reads the queue.
// - webhook_endpoints: what Postgres remembers of a configured endpoint (the list itself lives in
//   WEBHOOK_ENDPOINTS): whether it answered 410 Gone and is disabled since. The id is derived from
//   the URL, so a secret rotated keeps the state; no URL is stored (a path may carry a token),
//   only its origin, for the operator to recognise it.
// biome-ignore lint/suspicious/noExplicitAny: a migration is frozen in time and must not depend on today's types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('event_outbox')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('type', 'text', (col) => col.notNull())
    .addColumn('occurred_at', 'timestamptz', (col) => col.notNull())
    .addColumn('data', 'jsonb', (col) => col.notNull())
    .addColumn('status', 'text', (col) =>
      col.notNull().defaultTo('pending').check(sql`status IN ('pending', 'dispatched')`),
    )
    .addColumn('available_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('relay_attempts', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    .addColumn('dispatched_at', 'timestamptz')
    .execute();
  // The relay's claim reads only pending rows, oldest due first.
  await sql`CREATE INDEX event_outbox_pending ON event_outbox (available_at) WHERE status = 'pending'`.execute(db);
  // The purge deletes by age.
  await db.schema.createIndex('event_outbox_occurred_at').on('event_outbox').column('occurred_at').execute();

  await db.schema
    .createTable('webhook_endpoints')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('origin', 'text', (col) => col.notNull())
    .addColumn('disabled_at', 'timestamptz')
    .addColumn('disabled_reason', 'text')
    .addColumn('changed_by', 'text')
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: as above
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('webhook_endpoints').execute();
  await db.schema.dropTable('event_outbox').execute();
}
