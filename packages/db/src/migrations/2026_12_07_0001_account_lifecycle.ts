import { type Kysely, sql } from 'kysely';

// Frozen once it has run: change the schema in a new migration.

// Account lifecycle (issue 15):
// - `change_email` joins the purposes (a code to the new address of POST /v1/me/email). The
//   check is replaced NOT VALID and then validated, as for reset_password: no write lock while
//   the rows are checked, and every existing row passes (the set only grows).
// - A notice may outlive its account: the last notice of a deleted account is still to be
//   delivered after the user row is gone, so `notifications.user_id` becomes nullable and is set
//   to NULL (not cascaded) when the user is deleted. The row then holds no personal data: a
//   template name, times and a delivery status.
// biome-ignore lint/suspicious/noExplicitAny: a migration is frozen in time and must not depend on today's types
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE otp_challenges DROP CONSTRAINT otp_challenges_purpose_check,
    ADD CONSTRAINT otp_challenges_purpose_check
      CHECK (purpose IN ('login', 'verify_email', 'verify_phone', 'reset_password', 'change_email')) NOT VALID`.execute(
    db,
  );
  await sql`ALTER TABLE otp_challenges VALIDATE CONSTRAINT otp_challenges_purpose_check`.execute(db);
  await sql`ALTER TABLE notifications ALTER COLUMN user_id DROP NOT NULL,
    DROP CONSTRAINT notifications_user_id_fkey,
    ADD CONSTRAINT notifications_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE SET NULL NOT VALID`.execute(
    db,
  );
  await sql`ALTER TABLE notifications VALIDATE CONSTRAINT notifications_user_id_fkey`.execute(db);
}

// Change-email challenges (short-lived) and notices of deleted accounts are removed first.
// biome-ignore lint/suspicious/noExplicitAny: as above
export async function down(db: Kysely<any>): Promise<void> {
  await sql`DELETE FROM notifications WHERE user_id IS NULL`.execute(db);
  await sql`ALTER TABLE notifications ALTER COLUMN user_id SET NOT NULL,
    DROP CONSTRAINT notifications_user_id_fkey,
    ADD CONSTRAINT notifications_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE`.execute(
    db,
  );
  await sql`DELETE FROM otp_challenges WHERE purpose = 'change_email'`.execute(db);
  await sql`ALTER TABLE otp_challenges DROP CONSTRAINT otp_challenges_purpose_check,
    ADD CONSTRAINT otp_challenges_purpose_check
      CHECK (purpose IN ('login', 'verify_email', 'verify_phone', 'reset_password'))`.execute(db);
}
