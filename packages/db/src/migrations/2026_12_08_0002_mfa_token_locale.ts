import { type Kysely, sql } from 'kysely';

// Frozen once it has run: change the schema in a new migration.

// A sign-in sets the account's language (`users.locale`) when it completes; with a second factor
// that is at POST /v1/auth/mfa, a request that names no language of its own. The mfaToken row
// carries the first step's locale to it, as it carries the account. Nullable, no default: a
// catalogue change only; a token of the previous release has none and leaves the account's as it is.
// biome-ignore lint/suspicious/noExplicitAny: a migration is frozen in time and must not depend on today's types
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE mfa_tokens ADD COLUMN locale text NULL`.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: as above
export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE mfa_tokens DROP COLUMN locale`.execute(db);
}
