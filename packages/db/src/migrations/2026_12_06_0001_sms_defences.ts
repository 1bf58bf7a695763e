import { type Kysely, sql } from 'kysely';

// Frozen once it has run: change the schema in a new migration.

// The defences against SMS pumping (toll fraud):
// - otp_challenges learns the country and number range of an SMS challenge (never the number:
//   the country code and a few leading digits are shared by thousands of numbers), and when its
//   outcome (verified or not) was counted by the conversion breaker. Challenges older than this
//   migration have neither and are marked counted, so the breaker never reads them.
// - sms_counters: SMS per scope (range, country, all) per fixed window (an hour, a UTC day),
//   taken in the transaction that writes the send, so a refused send writes nothing and an
//   accepted one is never uncounted.
// - sms_breakers: the recent outcomes of each range and country (true: verified) and, when their
//   share verified fell too low, until when SMS to it are suspended.
// - kill_switches: what an operator switched off (`sms`, `email`, `country:GB`, `provider:twilio`).
// biome-ignore lint/suspicious/noExplicitAny: a migration is frozen in time and must not depend on today's types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('otp_challenges')
    .addColumn('sms_country', 'text')
    .addColumn('sms_range', 'text')
    .addColumn('outcome_counted_at', 'timestamptz')
    .execute();
  await sql`UPDATE otp_challenges SET outcome_counted_at = now() WHERE channel = 'sms'`.execute(db);
  // The breaker's sweep reads only SMS challenges whose outcome it has not counted yet.
  await sql`CREATE INDEX otp_challenges_outcome_pending ON otp_challenges (expires_at)
    WHERE channel = 'sms' AND outcome_counted_at IS NULL`.execute(db);

  await db.schema
    .createTable('sms_counters')
    .addColumn('scope', 'text', (col) => col.notNull().check(sql`scope IN ('range', 'country', 'all')`))
    .addColumn('key', 'text', (col) => col.notNull())
    .addColumn('period', 'text', (col) => col.notNull().check(sql`period IN ('hour', 'day')`))
    .addColumn('window_start', 'timestamptz', (col) => col.notNull())
    .addColumn('count', 'integer', (col) => col.notNull().check(sql`count >= 0`))
    .addPrimaryKeyConstraint('sms_counters_pkey', ['scope', 'key', 'period', 'window_start'])
    .execute();
  // The purge deletes ended windows.
  await db.schema.createIndex('sms_counters_window_start').on('sms_counters').column('window_start').execute();

  await db.schema
    .createTable('sms_breakers')
    .addColumn('scope', 'text', (col) => col.notNull().check(sql`scope IN ('range', 'country')`))
    .addColumn('key', 'text', (col) => col.notNull())
    .addColumn('outcomes', sql`boolean[]`, (col) => col.notNull().defaultTo(sql`'{}'::boolean[]`))
    .addColumn('suspended_until', 'timestamptz')
    .addColumn('trips', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('sms_breakers_pkey', ['scope', 'key'])
    .execute();
  await sql`CREATE INDEX sms_breakers_suspended ON sms_breakers (suspended_until)
    WHERE suspended_until IS NOT NULL`.execute(db);

  await db.schema
    .createTable('kill_switches')
    .addColumn('target', 'text', (col) => col.primaryKey())
    .addColumn('off', 'boolean', (col) => col.notNull())
    .addColumn('changed_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('changed_by', 'text')
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: as above
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('kill_switches').execute();
  await db.schema.dropTable('sms_breakers').execute();
  await db.schema.dropTable('sms_counters').execute();
  await sql`DROP INDEX IF EXISTS otp_challenges_outcome_pending`.execute(db);
  await db.schema
    .alterTable('otp_challenges')
    .dropColumn('outcome_counted_at')
    .dropColumn('sms_range')
    .dropColumn('sms_country')
    .execute();
}
