import { type Kysely, sql } from 'kysely';

// Frozen once it has run: change the schema in a new migration.

// Registration that reveals nothing and cannot pre-hijack an address:
// - users.registration_challenge_id: the verify_email challenge of the latest registration of an
//   unverified account. Verifying that challenge keeps what the registrant set; proving the
//   address with any other challenge removes it (the registrant may not own the address).
// - otp_challenges.template: which message the challenge sends. `account-exists` challenges (a
//   registration for an address that already has a verified account) carry no code, and their
//   resends send the same message again.
// - an index for the purge of accounts whose email was never verified.
// biome-ignore lint/suspicious/noExplicitAny: a migration is frozen in time and must not depend on today's types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('users').addColumn('registration_challenge_id', 'uuid').execute();
  await db.schema
    .alterTable('otp_challenges')
    .addColumn('template', 'text', (col) => col.notNull().defaultTo('otp-code'))
    .execute();
  await sql`CREATE INDEX users_unverified_updated ON users (updated_at)
    WHERE email IS NOT NULL AND email_verified_at IS NULL AND phone_verified_at IS NULL`.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: as above
export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX IF EXISTS users_unverified_updated`.execute(db);
  await db.schema.alterTable('otp_challenges').dropColumn('template').execute();
  await db.schema.alterTable('users').dropColumn('registration_challenge_id').execute();
}
