import { type Kysely, sql } from 'kysely';

// Frozen once it has run: change the schema in a new migration.

// Accounts and sessions: passwords on users, the absolute lifetime of a refresh-token family,
// single-use MFA tokens between a password and a second factor, and the security audit trail.
// biome-ignore lint/suspicious/noExplicitAny: a migration is frozen in time and must not depend on today's types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('users').addColumn('password_hash', 'text').addColumn('name', 'text').execute();

  // Each token of a family carries the family's absolute end; its own expires_at is the idle
  // deadline (never past the family's end). Rows written before this migration end with themselves.
  await db.schema.alterTable('refresh_tokens').addColumn('family_expires_at', 'timestamptz').execute();
  await sql`UPDATE refresh_tokens SET family_expires_at = expires_at`.execute(db);
  await db.schema
    .alterTable('refresh_tokens')
    .alterColumn('family_expires_at', (col) => col.setNotNull())
    .execute();

  await db.schema
    .createTable('mfa_tokens')
    .addColumn('token_hash', 'bytea', (col) => col.primaryKey())
    .addColumn('user_id', 'uuid', (col) => col.notNull().references('users.id').onDelete('cascade'))
    .addColumn('attempt_count', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('max_attempts', 'integer', (col) => col.notNull())
    .addColumn('expires_at', 'timestamptz', (col) => col.notNull())
    .addColumn('consumed_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('mfa_tokens_expires_at').on('mfa_tokens').column('expires_at').execute();

  await db.schema
    .createTable('security_events')
    .addColumn('id', 'bigint', (col) => col.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('type', 'text', (col) => col.notNull())
    .addColumn('user_id', 'uuid', (col) => col.references('users.id').onDelete('set null'))
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('request_id', 'text')
    .addColumn('details', 'jsonb', (col) => col.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('security_events_user')
    .on('security_events')
    .columns(['user_id', 'created_at'])
    .execute();
  // The failed-sign-in limit's fallback while Redis is down counts recent failures by IP.
  await db.schema
    .createIndex('security_events_type_ip')
    .on('security_events')
    .columns(['type', 'ip', 'created_at'])
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: as above
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('security_events').execute();
  await db.schema.dropTable('mfa_tokens').execute();
  await db.schema.alterTable('refresh_tokens').dropColumn('family_expires_at').execute();
  await db.schema.alterTable('users').dropColumn('password_hash').dropColumn('name').execute();
}
