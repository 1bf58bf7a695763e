import { type Kysely, sql } from 'kysely';

// Frozen once it has run: change the schema in a new migration.

// Access tokens carry `amr` (RFC 8176): how the user signed in. A refresh signs a new access token
// from the session row, so the row keeps the sign-in's values (as it keeps auth_time); the
// mfaToken row carries the first factor's values to the MFA step, which adds the second's.
// Nullable, no default: a catalogue change only. A session from before this migration has none
// and its refreshed tokens carry no amr claim (it is not known how that sign-in was proved); an
// mfaToken from before it gives the second factor's values alone.
// biome-ignore lint/suspicious/noExplicitAny: a migration is frozen in time and must not depend on today's types
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE sessions ADD COLUMN amr text[] NULL`.execute(db);
  await sql`ALTER TABLE mfa_tokens ADD COLUMN amr text[] NULL`.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: as above
export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE mfa_tokens DROP COLUMN amr`.execute(db);
  await sql`ALTER TABLE sessions DROP COLUMN amr`.execute(db);
}
