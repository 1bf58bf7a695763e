import { type Kysely, sql } from 'kysely';

// Frozen once it has run: change the schema in a new migration.

// An operator can disable an account (the admin API): while `disabled_at` is set every sign-in
// and every access token of it is refused. A nullable column without a default is a catalogue
// change only: no rewrite, no long lock. Gateways of the previous release ignore the column, so
// during a rolling upgrade only the new ones refuse a disabled account (its sessions are revoked
// by the disable itself, which every release honours).
// biome-ignore lint/suspicious/noExplicitAny: a migration is frozen in time and must not depend on today's types
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE users ADD COLUMN disabled_at timestamptz NULL`.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: as above
export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE users DROP COLUMN disabled_at`.execute(db);
}
