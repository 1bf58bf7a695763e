import {
  findChallenge,
  insertDeliveryAttempt,
  insertOutboxMessage,
  listHistoryPartitions,
  migrateToBefore,
  migrateToLatest,
  sql,
} from '@otp/db';
import { deliveryJobId } from '@otp/domain';
import { createTestDatabase, type TestDatabase } from '@otp/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countHistory, seededChallengeId, seedHistory } from '../partitions/seed.ts';

// The migration to partitioned history on rows as the previous release wrote them: nothing is
// copied, today's tables become the legacy partitions, and their old constraints keep guarding
// their rows. The million-row run with lock timings is `pnpm test:partition-migration`.
const MIGRATION = '2026_12_11_0001_partitioned_history';

describe(`migration ${MIGRATION}`, () => {
  let database: TestDatabase;
  let before: Record<string, number>;
  let lastAttemptId: number;

  beforeAll(async () => {
    database = await createTestDatabase({ migrateBefore: MIGRATION });
    await seedHistory(database.db, { challenges: 300, securityEvents: 200, notices: 20 });
    before = await countHistory(database.db);
    const last = await sql<{ id: string }>`SELECT max(id) AS id FROM delivery_attempts`.execute(database.db);
    lastAttemptId = Number(last.rows[0]?.id);
    await migrateToLatest(database.db);
  });
  afterAll(async () => database?.drop());

  it('keeps every row, each in its legacy partition', async () => {
    expect(await countHistory(database.db)).toEqual(before);
    for (const table of ['otp_challenges', 'delivery_outbox', 'delivery_attempts', 'security_events']) {
      const parts = await sql<{ part: string }>`SELECT DISTINCT tableoid::regclass::text AS part
        FROM ${sql.table(table)}`.execute(database.db);
      expect(parts.rows.map((row) => row.part)).toEqual([`${table}_legacy`]);
    }
  });

  it('makes the day partitions after the legacy one, the same days for a challenge and its children', async () => {
    const ranges = async (table: 'otp_challenges' | 'delivery_attempts' | 'delivery_outbox') =>
      (await listHistoryPartitions(database.db, table)).map((p) => [p.from?.getTime() ?? null, p.to.getTime()]);
    const days = await ranges('otp_challenges');
    expect(days.length).toBeGreaterThanOrEqual(4);
    expect(days[0]?.[0]).toBeNull();
    expect(await ranges('delivery_attempts')).toEqual(days);
    expect(await ranges('delivery_outbox')).toEqual(days);
  });

  it("serves an old challenge: reads, a resend's outbox row and an attempt land beside it", async () => {
    const id = seededChallengeId(7);
    expect((await findChallenge(database.db, id))?.id).toBe(id);
    await insertOutboxMessage(database.db, {
      challenge_id: id,
      send_number: 2,
      channel: 'email',
      job_id: deliveryJobId(id, 2),
      job_data: '{}',
    });
    await insertDeliveryAttempt(database.db, {
      challenge_id: id,
      send_number: 2,
      channel: 'email',
      provider: 'smtp',
      attempt: 1,
      outcome: 'sent',
      duration_ms: 1,
    });
    const attempt = await sql<{ id: string; part: string }>`SELECT id, tableoid::regclass::text AS part
      FROM delivery_attempts WHERE challenge_id = ${id} AND send_number = 2`.execute(database.db);
    // The new parent's identity goes on from the old table's last id.
    expect(Number(attempt.rows[0]?.id)).toBeGreaterThan(lastAttemptId);
    expect(attempt.rows[0]?.part).toBe('delivery_attempts_legacy');
  });

  it("refuses a duplicate send or job id of an old challenge (the legacy partition's old unique constraints)", async () => {
    const id = seededChallengeId(8);
    const row = (sendNumber: number, jobId: string) =>
      insertOutboxMessage(database.db, {
        challenge_id: id,
        send_number: sendNumber,
        channel: 'email',
        job_id: jobId,
        job_data: '{}',
      });
    await expect(row(1, 'fresh-job-id')).rejects.toThrow(/duplicate key/);
    await expect(row(2, deliveryJobId(id, 1))).rejects.toThrow(/duplicate key/);
  });

  it("takes the previous release's writes (no partition key) into the legacy partition until its bound", async () => {
    const id = seededChallengeId(10);
    await sql`INSERT INTO delivery_outbox (challenge_id, send_number, channel, job_id, job_data)
      VALUES (${id}, 2, 'email', ${deliveryJobId(id, 2)}, '{}')`.execute(database.db);
    await sql`INSERT INTO delivery_attempts (challenge_id, send_number, channel, provider, attempt, outcome, duration_ms)
      VALUES (${id}, 1, 'email', 'smtp', 2, 'sent', 1)`.execute(database.db);
    const parts = await sql<{ part: string }>`SELECT tableoid::regclass::text AS part FROM delivery_outbox
      WHERE challenge_id = ${id} UNION ALL SELECT tableoid::regclass::text FROM delivery_attempts
      WHERE challenge_id = ${id} AND attempt = 2`.execute(database.db);
    expect(parts.rows.map((row) => row.part).sort()).toEqual([
      'delivery_attempts_legacy',
      'delivery_outbox_legacy',
      'delivery_outbox_legacy',
    ]);
    // A challenge of a day partition: its keyless rows would be refused by the legacy partition's
    // old foreign key, so the previous release must be gone before the legacy bound passes.
    const [, day] = await listHistoryPartitions(database.db, 'otp_challenges');
    const late = seededChallengeId(999_999);
    await sql`INSERT INTO otp_challenges (id, channel, purpose, recipient_hash, recipient_sealed, recipient_masked,
      locale, code_hashes, status, send_count, max_attempts, max_sends, expires_at, resend_available_at,
      delivery_status, delivery_updated_at, created_at)
      VALUES (${late}, 'email', 'login', '\\x00', 's', 'a***@example.org', 'en', '{}', 'pending', 1, 5, 3,
        now(), now(), 'sent', now(), ${day?.from})`.execute(database.db);
    await expect(
      sql`INSERT INTO delivery_outbox (challenge_id, send_number, channel, job_id, job_data)
        VALUES (${late}, 1, 'email', ${deliveryJobId(late, 1)}, '{}')`.execute(database.db),
    ).rejects.toThrow(/foreign key/);
  });

  it('deletes an old challenge with its outbox rows and attempts (the old foreign keys cascade)', async () => {
    const id = seededChallengeId(9);
    await database.db.deleteFrom('otp_challenges').where('id', '=', id).execute();
    const left = await sql<{ n: string }>`SELECT (SELECT count(*) FROM delivery_outbox WHERE challenge_id = ${id})
      + (SELECT count(*) FROM delivery_attempts WHERE challenge_id = ${id}) AS n`.execute(database.db);
    expect(Number(left.rows[0]?.n)).toBe(0);
  });

  it('goes down to plain tables with every row, and up again', async () => {
    const partitioned = await countHistory(database.db);
    await migrateToBefore(database.db, MIGRATION);
    expect(await countHistory(database.db)).toEqual(partitioned);
    const kinds = await sql<{ relkind: string }>`SELECT DISTINCT relkind FROM pg_class
      WHERE relname IN ('otp_challenges', 'delivery_attempts', 'delivery_outbox', 'security_events')`.execute(
      database.db,
    );
    expect(kinds.rows.map((row) => row.relkind)).toEqual(['r']);
    await migrateToLatest(database.db);
    expect(await countHistory(database.db)).toEqual(partitioned);
  });
});
