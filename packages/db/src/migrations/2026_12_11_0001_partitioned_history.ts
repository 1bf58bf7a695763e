import { type Kysely, sql } from 'kysely';

// Frozen once it has run: change the schema in a new migration.

// Partitioned history (docs/scaling-postgres.md, "Partitioned history"): otp_challenges and its
// children delivery_attempts and delivery_outbox are range-partitioned by the challenge's
// created_at, one partition a day (UTC); security_events by its created_at, one partition a week
// (ISO weeks, UTC). Retention drops whole partitions instead of deleting rows.
//
// - The children carry their owner's created_at (delivery_attempts.challenge_created_at,
//   delivery_outbox.owner_created_at: the challenge's, or the notification's for a notice), so a
//   challenge and everything that hangs off it share a partition's bounds and go together.
// - A unique index or primary key of a partitioned table must hold its partition key, so every
//   index and the foreign keys to the challenge live on each partition (made by
//   otp_history_create_partitions), not on the parent: each day's child partition references that
//   day's challenge partition with (challenge_id, key) → (id, created_at). That foreign key makes
//   the key the challenge's own, so one challenge's rows always land in one partition, and the
//   partition's unique indexes (job_id; challenge_id, send_number; notification_id) refuse a
//   duplicate as the old table-wide ones did.
// - Today's tables become one partition each, `<table>_legacy`, for every time before the next
//   day (week) boundary: rename, create the partitioned table like it, prove the bound with a
//   CHECK (NOT VALID, then VALIDATE) and ATTACH. No row is copied or rewritten: the children's new
//   key column arrives with a constant default ('-infinity', no rewrite), and the legacy
//   partitions keep their own indexes and foreign keys (to otp_challenges_legacy), which are the
//   old table-wide guarantees for the rows they hold.
// - The identity sequences of the new parents continue after the old ones.
// - Partitions for today and the next days are created here; the gateway's maintenance
//   (services/gateway/src/ops/partition.schedule.ts) keeps them ahead and drops old ones.

// biome-ignore lint/suspicious/noExplicitAny: a migration is frozen in time and must not depend on today's types
export async function up(db: Kysely<any>): Promise<void> {
  // One statement each: a named prepared statement holds one command.
  for (const statement of FUNCTIONS.split(/\n\n(?=-- )/)) await sql.raw(statement).execute(db);
  // The first boundaries after now (or after the newest row, should one be dated later): the
  // legacy partitions end there, new ones start there. Read before any table is renamed, so the
  // scan of otp_challenges (no index on created_at) blocks no writer.
  const bounds = await sql<{ day: string; week: string }>`
    SELECT (greatest(date_trunc('day', now(), 'UTC'),
        (SELECT date_trunc('day', max(created_at), 'UTC') FROM otp_challenges)) + interval '24 hours')::text AS day,
      (greatest(date_trunc('week', now(), 'UTC'),
        (SELECT date_trunc('week', max(created_at), 'UTC') FROM security_events)) + interval '168 hours')::text AS week`.execute(
    db,
  );
  const { day, week } = bounds.rows[0] as { day: string; week: string };

  // otp_challenges.user_id: the account's challenges go with it.
  await convert(db, 'otp_challenges', 'created_at', day, [
    'ADD FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE',
  ]);
  await convert(db, 'delivery_attempts', 'challenge_created_at', day, []);
  await convert(db, 'delivery_outbox', 'owner_created_at', day, [
    'ADD FOREIGN KEY (notification_id) REFERENCES notifications (id) ON DELETE CASCADE',
  ]);
  await convert(db, 'security_events', 'created_at', week, [
    'ADD FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE SET NULL',
  ]);
  // A notice's outbox row references its notification with the partition key too (see above).
  await sql`CREATE UNIQUE INDEX notifications_id_created_at ON notifications (id, created_at)`.execute(db);
  // Today's partitions already exist as the legacy ones; these are the next days' and weeks'.
  await sql`SELECT otp_history_create_partitions(now(), 3)`.execute(db);
}

/**
 * Turns `table` into a partitioned table of the same name whose one partition, `<table>_legacy`,
 * is the old table for every key before `bound`. `parentClauses` are the foreign keys to
 * unpartitioned tables, declared once on the parent: the legacy partition's identical ones are
 * adopted, not checked again.
 */
// biome-ignore lint/suspicious/noExplicitAny: as above
async function convert(db: Kysely<any>, table: string, key: string, bound: string, parentClauses: string[]) {
  const legacy = `${table}_legacy`;
  const t = sql.id(table);
  const l = sql.id(legacy);
  const k = sql.id(key);
  await sql`ALTER TABLE ${t} RENAME TO ${l}`.execute(db);
  if (key !== 'created_at') {
    // A constant default is stored once in the catalogue, not written into the rows.
    await sql`ALTER TABLE ${l} ADD COLUMN ${k} timestamptz NOT NULL DEFAULT '-infinity'`.execute(db);
  }
  await sql`CREATE TABLE ${t} (LIKE ${l} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY)
    PARTITION BY RANGE (${k})`.execute(db);
  // The key's default ('-infinity', copied by LIKE) stays on the parent: this release's writers
  // always set the key from the owner's row, but the previous release's gateways and workers do
  // not, and their rows then land in the legacy partition beside the old rows, guarded by its old
  // foreign keys, until its bound (the next midnight, UTC) passes; after it they fail.
  for (const clause of parentClauses) await sql`ALTER TABLE ${t} ${sql.raw(clause)}`.execute(db);
  const check = sql.id(`${legacy}_bound`);
  await sql`ALTER TABLE ${l} ADD CONSTRAINT ${check} CHECK (${k} < ${sql.lit(bound)}::timestamptz) NOT VALID`.execute(
    db,
  );
  await sql`ALTER TABLE ${l} VALIDATE CONSTRAINT ${check}`.execute(db);
  await sql`ALTER TABLE ${t} ATTACH PARTITION ${l} FOR VALUES FROM (MINVALUE) TO (${sql.lit(bound)})`.execute(db);
  await sql`ALTER TABLE ${l} DROP CONSTRAINT ${check}`.execute(db);
  const hasId = await sql<{ yes: boolean }>`SELECT pg_get_serial_sequence(${legacy}, 'id') IS NOT NULL AS yes`.execute(
    db,
  );
  if (hasId.rows[0]?.yes === true) {
    // The parent's identity hands out ids after the old table's last one.
    await sql`SELECT setval(pg_get_serial_sequence(${table}, 'id'),
      (SELECT last_value FROM pg_sequences WHERE schemaname || '.' || sequencename = pg_get_serial_sequence(${legacy}, 'id')),
      (SELECT last_value IS NOT NULL FROM pg_sequences WHERE schemaname || '.' || sequencename = pg_get_serial_sequence(${legacy}, 'id')))`.execute(
      db,
    );
  }
}

// The partitions' template and the maintenance, as functions: the migration and the gateway's
// schedule make partitions the same way, and each call is one statement (one transaction).
const FUNCTIONS = `
-- The partitions of a table with the end of each one's range, oldest first.
CREATE FUNCTION otp_history_partitions(p_table regclass) RETURNS TABLE (name text, hi timestamptz)
LANGUAGE sql STABLE AS $$
  SELECT c.relname::text,
    (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \\(''([^'']+)''\\)'))[1]::timestamptz
  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
  WHERE i.inhparent = p_table
  ORDER BY 2
$$;

-- The end of the newest partition of a table (NULL when it has none).
CREATE FUNCTION otp_history_partitions_end(p_table regclass) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  SELECT max(hi) FROM otp_history_partitions(p_table)
$$;

-- One day of otp_challenges, delivery_attempts and delivery_outbox, from p_lo (a UTC midnight).
-- Each is created apart and then attached: ATTACH takes SHARE UPDATE EXCLUSIVE on the parent, so
-- reads and writes go on (CREATE TABLE ... PARTITION OF would take ACCESS EXCLUSIVE).
CREATE FUNCTION otp_history_create_day(p_lo timestamptz) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  p_hi timestamptz := p_lo + interval '24 hours';
  s text := to_char(p_lo AT TIME ZONE 'UTC', 'YYYYMMDD');
  c text := 'otp_challenges_p' || s;
  a text := 'delivery_attempts_p' || s;
  o text := 'delivery_outbox_p' || s;
BEGIN
  EXECUTE format('CREATE TABLE %I (LIKE otp_challenges INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', c);
  -- The children's foreign keys need a unique (id, created_at); id alone is random (UUID).
  EXECUTE format('ALTER TABLE %I ADD PRIMARY KEY (id, created_at)', c);
  EXECUTE format('CREATE INDEX ON %I (expires_at)', c);
  EXECUTE format('CREATE INDEX ON %I (expires_at) WHERE channel = ''sms'' AND outcome_counted_at IS NULL', c);
  EXECUTE format('ALTER TABLE otp_challenges ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', c, p_lo, p_hi);

  EXECUTE format('CREATE TABLE %I (LIKE delivery_attempts INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', a);
  EXECUTE format('ALTER TABLE %I ADD PRIMARY KEY (id)', a);
  EXECUTE format('CREATE INDEX ON %I (challenge_id, send_number)', a);
  EXECUTE format('ALTER TABLE %I ADD FOREIGN KEY (challenge_id, challenge_created_at)
    REFERENCES %I (id, created_at) ON DELETE CASCADE', a, c);
  EXECUTE format('ALTER TABLE delivery_attempts ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', a, p_lo, p_hi);

  EXECUTE format('CREATE TABLE %I (LIKE delivery_outbox INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', o);
  EXECUTE format('ALTER TABLE %I ADD PRIMARY KEY (id)', o);
  EXECUTE format('ALTER TABLE %I ADD UNIQUE (job_id)', o);
  EXECUTE format('ALTER TABLE %I ADD UNIQUE (challenge_id, send_number)', o);
  EXECUTE format('CREATE UNIQUE INDEX ON %I (notification_id) WHERE notification_id IS NOT NULL', o);
  EXECUTE format('CREATE INDEX ON %I (available_at) WHERE status = ''pending''', o);
  EXECUTE format('ALTER TABLE %I ADD FOREIGN KEY (challenge_id, owner_created_at)
    REFERENCES %I (id, created_at) ON DELETE CASCADE', o, c);
  EXECUTE format('ALTER TABLE %I ADD FOREIGN KEY (notification_id, owner_created_at)
    REFERENCES notifications (id, created_at) ON DELETE CASCADE', o);
  EXECUTE format('ALTER TABLE delivery_outbox ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', o, p_lo, p_hi);
END $$;

-- One week of security_events, from p_lo (a Monday, 00:00 UTC).
CREATE FUNCTION otp_history_create_week(p_lo timestamptz) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  e text := 'security_events_p' || to_char(p_lo AT TIME ZONE 'UTC', 'YYYYMMDD');
BEGIN
  EXECUTE format('CREATE TABLE %I (LIKE security_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', e);
  EXECUTE format('ALTER TABLE %I ADD PRIMARY KEY (id)', e);
  EXECUTE format('CREATE INDEX ON %I (user_id, created_at)', e);
  EXECUTE format('CREATE INDEX ON %I (type, ip, created_at)', e);
  EXECUTE format('ALTER TABLE security_events ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
    e, p_lo, p_lo + interval '168 hours');
END $$;

-- Creates the partitions missing between the newest one (or p_at's day or week, if later) and
-- p_at + p_days_ahead days; returns how many it created (a day's three tables count once). Replicas
-- take turns on a transaction-scoped advisory lock, so two never create the same partition.
CREATE FUNCTION otp_history_create_partitions(p_at timestamptz, p_days_ahead integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  until timestamptz := p_at + make_interval(days => p_days_ahead);
  lo timestamptz;
  created integer := 0;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('otp_history_partitions'));
  lo := greatest(otp_history_partitions_end('otp_challenges'), date_trunc('day', p_at, 'UTC'));
  WHILE lo < until LOOP
    PERFORM otp_history_create_day(lo);
    created := created + 1;
    lo := lo + interval '24 hours';
  END LOOP;
  lo := greatest(otp_history_partitions_end('security_events'), date_trunc('week', p_at, 'UTC'));
  WHILE lo < until LOOP
    PERFORM otp_history_create_week(lo);
    created := created + 1;
    lo := lo + interval '168 hours';
  END LOOP;
  RETURN created;
END $$;

-- Drops the partitions wholly out of retention and returns how many (a day's three tables count
-- once): a day of challenges once its range has ended and its latest expires_at is before
-- p_challenges_before (its children first: their foreign keys reference it), a week of security
-- events once its range ends before p_events_before. The legacy partitions go by the same rules.
CREATE FUNCTION otp_history_drop_partitions(p_at timestamptz, p_challenges_before timestamptz,
  p_events_before timestamptz) RETURNS TABLE (challenge_days integer, event_weeks integer)
LANGUAGE plpgsql AS $$
DECLARE
  part record;
  latest timestamptz;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('otp_history_partitions'));
  challenge_days := 0;
  event_weeks := 0;
  FOR part IN SELECT * FROM otp_history_partitions('otp_challenges') LOOP
    EXIT WHEN part.hi > p_at;
    EXECUTE format('SELECT max(expires_at) FROM %I', part.name) INTO latest;
    EXIT WHEN coalesce(latest, part.hi) >= p_challenges_before;
    EXECUTE format('DROP TABLE %I, %I', replace(part.name, 'otp_challenges_', 'delivery_attempts_'),
      replace(part.name, 'otp_challenges_', 'delivery_outbox_'));
    EXECUTE format('DROP TABLE %I', part.name);
    challenge_days := challenge_days + 1;
  END LOOP;
  FOR part IN SELECT * FROM otp_history_partitions('security_events') LOOP
    EXIT WHEN part.hi > p_events_before;
    EXECUTE format('DROP TABLE %I', part.name);
    event_weeks := event_weeks + 1;
  END LOOP;
  RETURN NEXT;
END $$;
`;

// biome-ignore lint/suspicious/noExplicitAny: as above
export async function down(db: Kysely<any>): Promise<void> {
  // Back to plain tables: the rows are copied (a down migration is for development, not for a
  // production table of millions of rows).
  for (const [table, key] of [
    ['security_events', 'created_at'],
    ['delivery_outbox', 'owner_created_at'],
    ['delivery_attempts', 'challenge_created_at'],
    ['otp_challenges', 'created_at'],
  ] as const) {
    const t = sql.id(table);
    const plain = sql.id(`${table}_plain`);
    await sql`CREATE TABLE ${plain} (LIKE ${t} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`.execute(db);
    await sql`INSERT INTO ${plain} SELECT * FROM ${t}`.execute(db);
    if (key !== 'created_at') await sql`ALTER TABLE ${plain} DROP COLUMN ${sql.id(key)}`.execute(db);
  }
  for (const table of ['delivery_outbox', 'delivery_attempts', 'otp_challenges', 'security_events']) {
    await sql`DROP TABLE ${sql.id(table)} CASCADE`.execute(db);
    await sql`ALTER TABLE ${sql.id(`${table}_plain`)} RENAME TO ${sql.id(table)}`.execute(db);
  }
  // The partitions' foreign keys to notifications went with them.
  await sql`DROP INDEX notifications_id_created_at`.execute(db);
  const statements = `
    ALTER TABLE otp_challenges ADD PRIMARY KEY (id),
      ADD FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;
    CREATE INDEX otp_challenges_expires_at ON otp_challenges (expires_at);
    CREATE INDEX otp_challenges_outcome_pending ON otp_challenges (expires_at)
      WHERE channel = 'sms' AND outcome_counted_at IS NULL;
    ALTER TABLE delivery_attempts ADD PRIMARY KEY (id),
      ADD FOREIGN KEY (challenge_id) REFERENCES otp_challenges (id) ON DELETE CASCADE,
      ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY;
    SELECT setval(pg_get_serial_sequence('delivery_attempts', 'id'), coalesce(max(id), 0) + 1, false) FROM delivery_attempts;
    CREATE INDEX delivery_attempts_challenge ON delivery_attempts (challenge_id, send_number);
    ALTER TABLE delivery_outbox ADD PRIMARY KEY (id),
      ADD CONSTRAINT delivery_outbox_job_id_key UNIQUE (job_id),
      ADD CONSTRAINT delivery_outbox_send UNIQUE (challenge_id, send_number),
      ADD FOREIGN KEY (challenge_id) REFERENCES otp_challenges (id) ON DELETE CASCADE,
      ADD FOREIGN KEY (notification_id) REFERENCES notifications (id) ON DELETE CASCADE,
      ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY;
    SELECT setval(pg_get_serial_sequence('delivery_outbox', 'id'), coalesce(max(id), 0) + 1, false) FROM delivery_outbox;
    CREATE UNIQUE INDEX delivery_outbox_notification ON delivery_outbox (notification_id) WHERE notification_id IS NOT NULL;
    CREATE INDEX delivery_outbox_pending ON delivery_outbox (available_at) WHERE status = 'pending';
    ALTER TABLE security_events ADD PRIMARY KEY (id),
      ADD FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE SET NULL,
      ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY;
    SELECT setval(pg_get_serial_sequence('security_events', 'id'), coalesce(max(id), 0) + 1, false) FROM security_events;
    CREATE INDEX security_events_created_at ON security_events (created_at);
    CREATE INDEX security_events_user ON security_events (user_id, created_at);
    CREATE INDEX security_events_type_ip ON security_events (type, ip, created_at);
    DROP FUNCTION otp_history_drop_partitions(timestamptz, timestamptz, timestamptz);
    DROP FUNCTION otp_history_create_partitions(timestamptz, integer);
    DROP FUNCTION otp_history_create_week(timestamptz);
    DROP FUNCTION otp_history_create_day(timestamptz);
    DROP FUNCTION otp_history_partitions_end(regclass);
    DROP FUNCTION otp_history_partitions(regclass)`;
  for (const statement of statements.split(';')) await sql.raw(statement).execute(db);
}
