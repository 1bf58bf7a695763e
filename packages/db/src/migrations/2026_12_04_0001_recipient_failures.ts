import type { Kysely } from 'kysely';

// Frozen once it has run: change the schema in a new migration.

// The failure budget of a recipient (issue 12): wrong codes for one address, across all of its
// challenges, counted on the recipient's window row so that the verification statement can take
// one unit of it under the row lock it already uses. The count lives in a fixed window that
// starts at the first counted failure and ends at `failure_window_ends_at`; null while nothing
// is counted. A right code sets both back.
// biome-ignore lint/suspicious/noExplicitAny: a migration is frozen in time and must not depend on today's types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('otp_recipient_windows')
    .addColumn('failure_count', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('failure_window_ends_at', 'timestamptz')
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: as above
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('otp_recipient_windows')
    .dropColumn('failure_count')
    .dropColumn('failure_window_ends_at')
    .execute();
}
