import { type Kysely, sql } from 'kysely';

// Frozen: this migration has run. Change the schema in a new migration.

// biome-ignore lint/suspicious/noExplicitAny: a migration is frozen in time and must not depend on today's types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('id', 'uuid', (col) => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('email', 'text', (col) => col.unique())
    .addColumn('phone', 'text', (col) => col.unique())
    .addColumn('email_verified_at', 'timestamptz')
    .addColumn('phone_verified_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('users_email_or_phone', sql`email IS NOT NULL OR phone IS NOT NULL`)
    .execute();

  await db.schema
    .createTable('otp_challenges')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('channel', 'text', (col) => col.notNull().check(sql`channel IN ('email', 'sms')`))
    .addColumn('purpose', 'text', (col) =>
      col.notNull().check(sql`purpose IN ('login', 'verify_email', 'verify_phone')`),
    )
    .addColumn('recipient_hash', 'bytea', (col) => col.notNull())
    .addColumn('recipient_sealed', 'text', (col) => col.notNull())
    .addColumn('recipient_masked', 'text', (col) => col.notNull())
    .addColumn('locale', 'text', (col) => col.notNull())
    .addColumn('user_id', 'uuid', (col) => col.references('users.id').onDelete('cascade'))
    .addColumn('code_hashes', sql`bytea[]`, (col) => col.notNull())
    .addColumn('status', 'text', (col) =>
      col.notNull().check(sql`status IN ('pending', 'verified', 'locked', 'failed')`),
    )
    .addColumn('send_count', 'integer', (col) => col.notNull())
    .addColumn('attempt_count', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('max_attempts', 'integer', (col) => col.notNull())
    .addColumn('max_sends', 'integer', (col) => col.notNull())
    .addColumn('expires_at', 'timestamptz', (col) => col.notNull())
    .addColumn('resend_available_at', 'timestamptz', (col) => col.notNull())
    .addColumn('verified_at', 'timestamptz')
    .addColumn('client_ip', 'text')
    .addColumn('delivery_status', 'text', (col) => col.notNull())
    .addColumn('delivery_attempts', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('delivery_last_error', 'text')
    .addColumn('delivery_provider_message_id', 'text')
    .addColumn('delivery_updated_at', 'timestamptz', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  // Per-recipient limit: count a recipient's recent challenges.
  await db.schema
    .createIndex('otp_challenges_recipient_created')
    .on('otp_challenges')
    .columns(['recipient_hash', 'created_at'])
    .execute();
  // Purge of expired challenges.
  await db.schema.createIndex('otp_challenges_expires_at').on('otp_challenges').column('expires_at').execute();

  await db.schema
    .createTable('delivery_outbox')
    .addColumn('id', 'bigint', (col) => col.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('challenge_id', 'uuid', (col) => col.notNull().references('otp_challenges.id').onDelete('cascade'))
    .addColumn('send_number', 'integer', (col) => col.notNull())
    .addColumn('channel', 'text', (col) => col.notNull())
    .addColumn('job_id', 'text', (col) => col.notNull().unique())
    .addColumn('job_data', 'jsonb', (col) => col.notNull())
    .addColumn('status', 'text', (col) =>
      col.notNull().defaultTo('pending').check(sql`status IN ('pending', 'dispatched')`),
    )
    .addColumn('relay_attempts', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    .addColumn('available_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('dispatched_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('delivery_outbox_send', ['challenge_id', 'send_number'])
    .execute();
  // The relay only ever scans pending rows; keep that index small.
  await sql`CREATE INDEX delivery_outbox_pending ON delivery_outbox (available_at) WHERE status = 'pending'`.execute(
    db,
  );

  await db.schema
    .createTable('delivery_attempts')
    .addColumn('id', 'bigint', (col) => col.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('challenge_id', 'uuid', (col) => col.notNull().references('otp_challenges.id').onDelete('cascade'))
    .addColumn('send_number', 'integer', (col) => col.notNull())
    .addColumn('channel', 'text', (col) => col.notNull())
    .addColumn('provider', 'text', (col) => col.notNull())
    .addColumn('attempt', 'integer', (col) => col.notNull())
    .addColumn('outcome', 'text', (col) => col.notNull())
    .addColumn('error_code', 'text')
    .addColumn('error_message', 'text')
    .addColumn('provider_message_id', 'text')
    .addColumn('duration_ms', 'integer', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('delivery_attempts_challenge')
    .on('delivery_attempts')
    .columns(['challenge_id', 'send_number'])
    .execute();

  await db.schema
    .createTable('refresh_tokens')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('user_id', 'uuid', (col) => col.notNull().references('users.id').onDelete('cascade'))
    .addColumn('family_id', 'uuid', (col) => col.notNull())
    .addColumn('token_hash', 'bytea', (col) => col.notNull().unique())
    .addColumn('expires_at', 'timestamptz', (col) => col.notNull())
    .addColumn('revoked_at', 'timestamptz')
    .addColumn('replaced_by', 'uuid')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('refresh_tokens_family').on('refresh_tokens').column('family_id').execute();
  await db.schema.createIndex('refresh_tokens_user').on('refresh_tokens').column('user_id').execute();
}

// biome-ignore lint/suspicious/noExplicitAny: as above
export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['refresh_tokens', 'delivery_attempts', 'delivery_outbox', 'otp_challenges', 'users']) {
    await db.schema.dropTable(table).execute();
  }
}
