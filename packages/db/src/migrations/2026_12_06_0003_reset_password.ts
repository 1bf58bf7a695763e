import { type Kysely, sql } from 'kysely';

// Frozen once it has run: change the schema in a new migration.

// Password reset by emailed code: `reset_password` joins the purposes a challenge may have. The
// check is replaced NOT VALID and then validated, so the table is not locked against writes while
// its rows are checked (every existing row passes: the set only grows). Gateways of the previous
// release never write the new purpose.
// biome-ignore lint/suspicious/noExplicitAny: a migration is frozen in time and must not depend on today's types
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE otp_challenges DROP CONSTRAINT otp_challenges_purpose_check,
    ADD CONSTRAINT otp_challenges_purpose_check
      CHECK (purpose IN ('login', 'verify_email', 'verify_phone', 'reset_password')) NOT VALID`.execute(db);
  await sql`ALTER TABLE otp_challenges VALIDATE CONSTRAINT otp_challenges_purpose_check`.execute(db);
}

// Reset challenges (short-lived) must be gone, or purged, before this runs.
// biome-ignore lint/suspicious/noExplicitAny: as above
export async function down(db: Kysely<any>): Promise<void> {
  await sql`DELETE FROM otp_challenges WHERE purpose = 'reset_password'`.execute(db);
  await sql`ALTER TABLE otp_challenges DROP CONSTRAINT otp_challenges_purpose_check,
    ADD CONSTRAINT otp_challenges_purpose_check
      CHECK (purpose IN ('login', 'verify_email', 'verify_phone'))`.execute(db);
}
