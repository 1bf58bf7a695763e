import type { Kysely } from 'kysely';

// Frozen once it has run: change the schema in a new migration.

// The audit trail is now purged after SECURITY_EVENTS_RETENTION_DAYS: the purge deletes by
// created_at alone, which neither existing index (user_id, created_at; type, ip, created_at)
// serves, so without this one every purge would read the whole table.
// biome-ignore lint/suspicious/noExplicitAny: a migration is frozen in time and must not depend on today's types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('security_events_created_at').on('security_events').column('created_at').execute();
}

// biome-ignore lint/suspicious/noExplicitAny: as above
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('security_events_created_at').execute();
}
