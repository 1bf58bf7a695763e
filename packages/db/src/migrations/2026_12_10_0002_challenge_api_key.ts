import { type Kysely, sql } from 'kysely';

// Frozen once it has run: change the schema in a new migration.

// The verification API for servers: a challenge started with a server key (API_KEYS) records the
// key's name. Only that key sees its address in clear and its verification token, and verifying it
// changes no account. Nullable, no default: every challenge before this one was started without a key.
// biome-ignore lint/suspicious/noExplicitAny: a migration is frozen in time and must not depend on today's types
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE otp_challenges ADD COLUMN api_key_name text NULL`.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: as above
export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE otp_challenges DROP COLUMN api_key_name`.execute(db);
}
