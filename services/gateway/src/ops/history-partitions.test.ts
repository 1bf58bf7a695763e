import { type Database, type Kysely, listHistoryPartitions, sql } from '@otp/db';
import { parseExposition, sampleValue } from '@otp/testkit';
import { describe, expect, it } from 'vitest';
import { useTestGateway } from '../testing/gateway.fixture.ts';
import { post, type TestGateway, uniqueEmail } from '../testing/gateway.harness.ts';
import { PARTITION_DAYS_AHEAD } from './purge.schedule.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

// The purge schedule's partition maintenance (docs/scaling-postgres.md, "Partitioned history"):
// partitions made a week ahead, whole days and weeks dropped once wholly out of retention, and
// what a gateway does when they run out.
describe('the history partitions', () => {
  const { gateway, database } = useTestGateway({ env: { EXPIRED_RETENTION_SECONDS: '3600' } });

  it('creates the partitions a week ahead at start, the same days for a challenge and its children, once', async () => {
    // The migration made three days ahead; the gateway's start made the rest of the week.
    await gateway.deps.purge.ready;
    const days = await ends(database.db, 'otp_challenges');
    expect(days.at(-1)).toBeGreaterThanOrEqual(Date.now() + PARTITION_DAYS_AHEAD * DAY);
    expect(await ends(database.db, 'delivery_attempts')).toEqual(days);
    expect(await ends(database.db, 'delivery_outbox')).toEqual(days);
    expect((await ends(database.db, 'security_events')).at(-1)).toBeGreaterThanOrEqual(
      Date.now() + PARTITION_DAYS_AHEAD * DAY,
    );
    expect((await gateway.deps.purge.runOnce()).partitionsCreated).toBe(0);
  });

  it('drops a day with its outbox rows and attempts once wholly out of retention, and keeps a day that is not', async () => {
    await gateway.deps.purge.runOnce();
    const [legacy, first, second] = await listHistoryPartitions(database.db, 'otp_challenges');
    if (legacy === undefined || first === undefined || second === undefined) throw new Error('no day partitions');
    // One challenge a day, made an hour before its day ends: the first expires ten minutes after
    // its day ends, the second five hours after.
    const early = await challengeAt(database.db, first.to.getTime() - HOUR, first.to.getTime() + 600_000);
    const late = await challengeAt(database.db, second.to.getTime() - HOUR, second.to.getTime() + 5 * HOUR);

    // An hour after the first day ended, its challenge expired 50 minutes ago: within the retention
    // (an hour). The legacy partition, empty, ended before: it goes.
    expect((await gateway.deps.purge.runOnce(new Date(first.to.getTime() + HOUR))).challengeDays).toBe(1); // legacy
    expect(await stillThere(database.db, early)).toBe(true);
    // Two hours after: the first day goes whole, with its children; the second day keeps its one
    // challenge in retention (and every other row of its day) however long its day has ended.
    expect((await gateway.deps.purge.runOnce(new Date(second.to.getTime() + 2 * HOUR))).challengeDays).toBe(1);
    expect(await stillThere(database.db, early)).toBe(false);
    expect(await stillThere(database.db, late)).toBe(true);
    expect((await ends(database.db, 'delivery_outbox'))[0]).toBe(second.to.getTime());
    expect((await gateway.deps.purge.runOnce(new Date(second.to.getTime() + 6 * HOUR + 60_000))).challengeDays).toBe(1);
    expect(await stillThere(database.db, late)).toBe(false);
  });
});

describe('the history partitions run out', () => {
  const { gateway, database } = useTestGateway();

  it('refuses new codes with a 503 (nothing half written) and shows the horizon at 0 until the maintenance makes them', async () => {
    // Every partition of the challenges' days gone, children first, as if none had been made.
    for (const { name } of await listHistoryPartitions(database.db, 'otp_challenges')) {
      const day = name.replace('otp_challenges_', '');
      await sql`DROP TABLE ${sql.table(`delivery_attempts_${day}`)}, ${sql.table(`delivery_outbox_${day}`)}`.execute(
        database.db,
      );
      await sql`DROP TABLE ${sql.table(name)}`.execute(database.db);
    }
    expect(horizon(await scrape(gateway))).toBeLessThanOrEqual(0);
    const refused = await post(gateway.app, '/v1/otp/challenges', { channel: 'email', to: uniqueEmail('no-part') });
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ code: 'service_unavailable' });
    expect(refused.headers['retry-after']).toBe('60');
    const written = await sql<{ n: string }>`SELECT (SELECT count(*) FROM event_outbox)
      + (SELECT count(*) FROM otp_recipient_windows) AS n`.execute(database.db);
    expect(Number(written.rows[0]?.n)).toBe(0);

    await gateway.deps.purge.runOnce();
    expect(horizon(await scrape(gateway))).toBeGreaterThan(((PARTITION_DAYS_AHEAD - 1) * DAY) / 1000);
    const accepted = await post(gateway.app, '/v1/otp/challenges', { channel: 'email', to: uniqueEmail('part') });
    expect(accepted.status).toBe(202);
  });
});

async function ends(
  db: Kysely<Database>,
  table: 'otp_challenges' | 'delivery_attempts' | 'delivery_outbox' | 'security_events',
): Promise<number[]> {
  return (await listHistoryPartitions(db, table)).map((partition) => partition.to.getTime());
}

/** A challenge with an outbox row and an attempt, created and expiring at the given times. */
async function challengeAt(db: Kysely<Database>, createdAt: number, expiresAt: number): Promise<string> {
  const row = await sql<{ id: string }>`
    WITH c AS (
      INSERT INTO otp_challenges (id, channel, purpose, recipient_hash, recipient_sealed, recipient_masked, locale,
        code_hashes, status, send_count, max_attempts, max_sends, expires_at, resend_available_at, delivery_status,
        delivery_updated_at, created_at)
      VALUES (gen_random_uuid(), 'email', 'login', '\\x00', 's', 'a***@example.org', 'en', '{}', 'pending', 1, 5, 3,
        ${new Date(expiresAt)}, ${new Date(createdAt)}, 'sent', ${new Date(createdAt)}, ${new Date(createdAt)})
      RETURNING id, created_at
    ), o AS (
      INSERT INTO delivery_outbox (challenge_id, owner_created_at, send_number, channel, job_id, job_data)
      SELECT id, created_at, 1, 'email', id::text || '.1', '{}' FROM c
    ), a AS (
      INSERT INTO delivery_attempts (challenge_id, challenge_created_at, send_number, channel, provider, attempt,
        outcome, duration_ms)
      SELECT id, created_at, 1, 'email', 'smtp', 1, 'sent', 1 FROM c
    )
    SELECT id FROM c`.execute(db);
  return row.rows[0]?.id as string;
}

async function stillThere(db: Kysely<Database>, id: string): Promise<boolean> {
  const rows = await sql<{ n: string }>`SELECT (SELECT count(*) FROM otp_challenges WHERE id = ${id})
    + (SELECT count(*) FROM delivery_outbox WHERE challenge_id = ${id})
    + (SELECT count(*) FROM delivery_attempts WHERE challenge_id = ${id}) AS n`.execute(db);
  const n = Number(rows.rows[0]?.n);
  if (n !== 0 && n !== 3) throw new Error(`challenge ${id} is half there (${n} of 3 rows)`);
  return n === 3;
}

async function scrape(gateway: TestGateway) {
  const response = await gateway.ops.inject({ method: 'GET', url: '/metrics' });
  return parseExposition(response.body);
}

function horizon(families: Awaited<ReturnType<typeof scrape>>): number {
  return sampleValue(families, 'otp_history_partition_horizon_seconds', { service: 'gateway' }) ?? Number.NaN;
}
