import { type Kysely, sql } from 'kysely';

// Frozen: this migration has run. Change the schema in a new migration.

// The per-recipient limit moves from counting otp_challenges rows under an advisory lock (six
// round trips per request) to one row per recipient holding the creation times of its recent
// challenges, updated in the same statement that creates the challenge.
// biome-ignore lint/suspicious/noExplicitAny: a migration is frozen in time and must not depend on today's types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('otp_recipient_windows')
    .addColumn('recipient_hash', 'bytea', (col) => col.primaryKey())
    .addColumn('recent', sql`timestamptz[]`, (col) => col.notNull())
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull())
    .execute();
  // Purge of windows nobody used lately.
  await db.schema
    .createIndex('otp_recipient_windows_updated_at')
    .on('otp_recipient_windows')
    .column('updated_at')
    .execute();
  await db.schema.dropIndex('otp_challenges_recipient_created').execute();
}

// biome-ignore lint/suspicious/noExplicitAny: as above
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex('otp_challenges_recipient_created')
    .on('otp_challenges')
    .columns(['recipient_hash', 'created_at'])
    .execute();
  await db.schema.dropTable('otp_recipient_windows').execute();
}
