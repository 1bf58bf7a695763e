import { type Kysely, sql } from 'kysely';

// Frozen once it has run: change the schema in a new migration.

// Messages in the user's language. `users.locale` is the catalogue locale of the account's last
// sign-in, used for the messages no request asks for (security notices). `delivery_attempts.locale`
// and `notifications.locale` record the locale each message was actually written in (a worker may
// fall back from the one asked for). Nullable columns without defaults: catalogue changes only, no
// rewrite; rows of earlier releases keep NULL (they were English).
// biome-ignore lint/suspicious/noExplicitAny: a migration is frozen in time and must not depend on today's types
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE users ADD COLUMN locale text NULL`.execute(db);
  await sql`ALTER TABLE delivery_attempts ADD COLUMN locale text NULL`.execute(db);
  await sql`ALTER TABLE notifications ADD COLUMN locale text NULL`.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: as above
export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE notifications DROP COLUMN locale`.execute(db);
  await sql`ALTER TABLE delivery_attempts DROP COLUMN locale`.execute(db);
  await sql`ALTER TABLE users DROP COLUMN locale`.execute(db);
}
