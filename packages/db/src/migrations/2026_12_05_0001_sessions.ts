import { type Kysely, sql } from 'kysely';

// Frozen once it has run: change the schema in a new migration.

// A sign-in is a session with its own row (its refresh tokens were a "family" with no row):
// - sessions: who, when it started and was last used, when the user last proved a factor
//   (auth_time, which a refresh never moves), the device it came from (user agent and client
//   network: an IPv6 /64 or an IPv4 address), and whether it was revoked. Rotation and revocation
//   lock this row, so they cannot interleave.
// - refresh_tokens.family_id is the session's id. Families from before this migration get a
//   session each; their device is unknown (NULL), which the new-device check reads as "no notice"
//   (an upgrade does not email every active user). No foreign key: gateways of the previous
//   release, still serving during a rolling upgrade, insert families without a session row; the
//   new gateways adopt such a family (a session row like these) when it is next refreshed.
// biome-ignore lint/suspicious/noExplicitAny: a migration is frozen in time and must not depend on today's types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('sessions')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('user_id', 'uuid', (col) => col.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('last_used_at', 'timestamptz', (col) => col.notNull())
    .addColumn('expires_at', 'timestamptz', (col) => col.notNull())
    .addColumn('auth_time', 'timestamptz', (col) => col.notNull())
    .addColumn('user_agent', 'text')
    .addColumn('client_network', 'text')
    .addColumn('revoked_at', 'timestamptz')
    .addColumn('revoked_reason', 'text')
    .execute();
  await db.schema.createIndex('sessions_user_last_used').on('sessions').columns(['user_id', 'last_used_at']).execute();
  await db.schema.createIndex('sessions_expires_at').on('sessions').column('expires_at').execute();

  await sql`
    INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, auth_time, revoked_at, revoked_reason)
    SELECT family_id, min(user_id::text)::uuid, min(created_at), max(created_at), max(family_expires_at),
           min(created_at),
           CASE WHEN bool_and(revoked_at IS NOT NULL) THEN max(revoked_at) END,
           CASE WHEN bool_and(revoked_at IS NOT NULL) THEN 'before_sessions' END
    FROM refresh_tokens GROUP BY family_id`.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: as above
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('sessions').execute();
}
