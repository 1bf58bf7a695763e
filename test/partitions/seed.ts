import { type Database, type Kysely, sql } from '@otp/db';

/** What `seedHistory` writes: the counts a test checks after the migration. */
export interface SeedCounts {
  challenges: number;
  securityEvents: number;
  notices: number;
}

/** The id of the i-th seeded challenge (1-based): readable back without a lookup. */
export function seededChallengeId(i: number): string {
  return `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
}

/**
 * History rows as the release before partitioning wrote them (schema of migration
 * 2026_12_10_0002), made by Postgres itself (INSERT ... SELECT generate_series), so a million
 * take seconds: `counts.challenges` challenges over the last two days, each with one outbox row
 * (dispatched) and one delivery attempt; `counts.notices` security notices with their outbox
 * rows; `counts.securityEvents` audit events over the last 90 days.
 */
export async function seedHistory(db: Kysely<Database>, counts: SeedCounts): Promise<void> {
  await sql`INSERT INTO users (email, email_verified_at)
    SELECT 'seed-' || i || '@example.org', now() FROM generate_series(1, 100) AS i`.execute(db);
  await sql`INSERT INTO otp_challenges (id, channel, purpose, recipient_hash, recipient_sealed, recipient_masked,
      locale, code_hashes, status, send_count, attempt_count, max_attempts, max_sends, expires_at,
      resend_available_at, delivery_status, delivery_updated_at, created_at)
    SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, 'email', 'login',
      decode(md5(i::text), 'hex'), 'sealed', 'a***@example.org', 'en', ARRAY[decode(md5(i::text), 'hex')],
      CASE WHEN i % 3 = 0 THEN 'verified' ELSE 'pending' END, 1, 0, 5, 3,
      t + interval '10 minutes', t + interval '30 seconds', 'sent', t, t
    FROM generate_series(1, ${counts.challenges}::int) AS i,
      LATERAL (SELECT now() - (i * (172800.0 / ${counts.challenges}::int)) * interval '1 second' AS t) AS at`.execute(
    db,
  );
  await sql`INSERT INTO delivery_outbox (challenge_id, send_number, channel, job_id, job_data, status, dispatched_at, created_at)
    SELECT id, 1, 'email', id::text || '.1', '{}'::jsonb, 'dispatched', created_at, created_at
    FROM otp_challenges`.execute(db);
  await sql`INSERT INTO delivery_attempts (challenge_id, send_number, channel, provider, attempt, outcome, duration_ms, created_at)
    SELECT id, 1, 'email', 'smtp', 1, 'sent', 120, created_at FROM otp_challenges`.execute(db);
  await sql`INSERT INTO notifications (id, user_id, template, status, created_at)
    SELECT gen_random_uuid(), (SELECT id FROM users ORDER BY email LIMIT 1), 'factor-locked', 'sent',
      now() - (i % 48) * interval '1 hour'
    FROM generate_series(1, ${counts.notices}::int) AS i`.execute(db);
  await sql`INSERT INTO delivery_outbox (kind, notification_id, channel, job_id, job_data, status, created_at)
    SELECT 'notice', id, 'email', 'notice.' || id, '{}'::jsonb, 'dispatched', created_at FROM notifications`.execute(
    db,
  );
  await sql`INSERT INTO security_events (type, user_id, ip, details, created_at)
    SELECT 'login.failed', NULL, '192.0.2.' || (i % 250), '{}'::jsonb,
      now() - (i * (90 * 86400.0 / ${counts.securityEvents}::int)) * interval '1 second'
    FROM generate_series(1, ${counts.securityEvents}::int) AS i`.execute(db);
}

/** Rows per table, to compare before and after the migration. */
export async function countHistory(db: Kysely<Database>): Promise<Record<string, number>> {
  const result = await sql<Record<string, string>>`SELECT
      (SELECT count(*) FROM otp_challenges) AS otp_challenges,
      (SELECT count(*) FROM delivery_outbox) AS delivery_outbox,
      (SELECT count(*) FROM delivery_attempts) AS delivery_attempts,
      (SELECT count(*) FROM security_events) AS security_events,
      (SELECT count(*) FROM notifications) AS notifications`.execute(db);
  return Object.fromEntries(Object.entries(result.rows[0] ?? {}).map(([table, n]) => [table, Number(n)]));
}
