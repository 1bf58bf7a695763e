import { type Kysely, sql } from 'kysely';

// Frozen once it has run: change the schema in a new migration.

// Authenticator factors (TOTP apps, HOTP hardware tokens) with their secrets sealed under
// FACTOR_KEYS, hashed single-use recovery codes, and the per-account count of consecutive failed
// factor codes that locks the factors (NIST SP 800-63B) until a recovery code is used.
// biome-ignore lint/suspicious/noExplicitAny: a migration is frozen in time and must not depend on today's types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('user_factors')
    .addColumn('id', 'uuid', (col) => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (col) => col.notNull().references('users.id').onDelete('cascade'))
    .addColumn('kind', 'text', (col) => col.notNull().check(sql`kind in ('totp', 'hotp')`))
    .addColumn('secret_envelope', 'text', (col) => col.notNull())
    .addColumn('algorithm', 'text', (col) => col.notNull())
    .addColumn('digits', 'integer', (col) => col.notNull())
    .addColumn('period', 'integer')
    // HOTP: the next counter value a code may have. TOTP: the last accepted time step (replay).
    .addColumn('counter', 'bigint')
    .addColumn('last_step', 'bigint')
    .addColumn('enabled_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  // One factor of each kind per account (pending or enabled).
  await db.schema
    .createIndex('user_factors_user_kind')
    .on('user_factors')
    .columns(['user_id', 'kind'])
    .unique()
    .execute();

  await db.schema
    .createTable('recovery_codes')
    .addColumn('id', 'bigint', (col) => col.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('user_id', 'uuid', (col) => col.notNull().references('users.id').onDelete('cascade'))
    .addColumn('code_hash', 'bytea', (col) => col.notNull())
    .addColumn('used_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('recovery_codes_user_hash')
    .on('recovery_codes')
    .columns(['user_id', 'code_hash'])
    .execute();

  await db.schema
    .alterTable('users')
    .addColumn('factor_failures', 'integer', (col) => col.notNull().defaultTo(0))
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: as above
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('users').dropColumn('factor_failures').execute();
  await db.schema.dropTable('recovery_codes').execute();
  await db.schema.dropTable('user_factors').execute();
}
