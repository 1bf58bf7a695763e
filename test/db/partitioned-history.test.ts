import { randomUUID } from 'node:crypto';
import {
  type Database,
  insertChallenge,
  insertDeliveryAttempt,
  insertOutboxMessage,
  type Kysely,
  listHistoryPartitions,
  recordAttemptAndMove,
  sql,
} from '@otp/db';
import { deliveryJobId } from '@otp/domain';
import { useTestDatabase } from '@otp/testkit';
import { describe, expect, it } from 'vitest';
import { challengeRow } from './challenge-row.ts';

// What replaces each table-wide guarantee once the history tables are partitioned
// (docs/scaling-postgres.md, "Partitioned history"): per-partition foreign keys on
// (challenge, its created_at) and per-partition unique indexes, which refuse what the old
// foreign keys and unique constraints refused. These rows live in a day partition (after the
// legacy one); partitioned-history.migration.test.ts checks the legacy rows.
describe('partitioned history: the guarantees', () => {
  const database = useTestDatabase();
  const HOUR = 3_600_000;

  /** The first day partition's start: the legacy partition's end. */
  async function firstDay(): Promise<number> {
    const [legacy] = await listHistoryPartitions(database.db, 'otp_challenges');
    return (legacy as { to: Date }).to.getTime();
  }

  async function challengeAt(createdAt: Date): Promise<string> {
    const row = challengeRow({
      max_sends: 3,
      expires_at: new Date(createdAt.getTime() + 600_000),
      resend_available_at: createdAt,
      delivery_updated_at: createdAt,
      created_at: createdAt,
    });
    await insertChallenge(database.db, row);
    return row.id;
  }

  const outbox = (challengeId: string, sendNumber: number, jobId = deliveryJobId(challengeId, sendNumber)) =>
    insertOutboxMessage(database.db, {
      challenge_id: challengeId,
      send_number: sendNumber,
      channel: 'email',
      job_id: jobId,
      job_data: '{}',
    });

  const partitionOf = async (table: string, column: string, id: string) =>
    (
      await sql<{ part: string }>`SELECT tableoid::regclass::text AS part FROM ${sql.table(table)}
      WHERE ${sql.ref(column)} = ${id}::uuid`.execute(database.db)
    ).rows.map((row) => row.part);

  it("puts a challenge's outbox rows and attempts in its day's partitions", async () => {
    const day = await firstDay();
    const id = await challengeAt(new Date(day + HOUR));
    await outbox(id, 1);
    await insertDeliveryAttempt(database.db, attempt(id));
    const suffix = new Date(day).toISOString().slice(0, 10).replaceAll('-', '');
    expect(await partitionOf('otp_challenges', 'id', id)).toEqual([`otp_challenges_p${suffix}`]);
    expect(await partitionOf('delivery_outbox', 'challenge_id', id)).toEqual([`delivery_outbox_p${suffix}`]);
    expect(await partitionOf('delivery_attempts', 'challenge_id', id)).toEqual([`delivery_attempts_p${suffix}`]);
  });

  it('refuses a second outbox row for one send, and a job id twice (unique per partition, one partition per challenge)', async () => {
    const id = await challengeAt(new Date((await firstDay()) + 2 * HOUR));
    await outbox(id, 1);
    await expect(outbox(id, 1, 'another-job-id')).rejects.toThrow(/duplicate key/);
    await expect(outbox(id, 2, deliveryJobId(id, 1))).rejects.toThrow(/duplicate key/);
    await outbox(id, 2);
  });

  it("refuses an outbox row or attempt whose key is not its challenge's created_at: a duplicate cannot land in another partition", async () => {
    const day = await firstDay();
    const id = await challengeAt(new Date(day + 3 * HOUR));
    await outbox(id, 1);
    // The same day (a refusal either way) and the next day (only the foreign key stands in the way).
    for (const elsewhere of [new Date(day + 3 * HOUR + 1), new Date(day + 27 * HOUR)]) {
      await expect(
        sql`INSERT INTO delivery_outbox (challenge_id, owner_created_at, send_number, channel, job_id, job_data)
          VALUES (${id}, ${elsewhere}, 1, 'email', ${`${id}.${elsewhere.getTime()}`}, '{}')`.execute(database.db),
      ).rejects.toThrow(/foreign key|duplicate key/);
      await expect(
        sql`INSERT INTO delivery_outbox (challenge_id, owner_created_at, send_number, channel, job_id, job_data)
          VALUES (${id}, ${elsewhere}, 7, 'email', ${`${id}.7`}, '{}')`.execute(database.db),
      ).rejects.toThrow(/foreign key/);
      await expect(
        sql`INSERT INTO delivery_attempts (challenge_id, challenge_created_at, send_number, channel, provider, attempt, outcome, duration_ms)
          VALUES (${id}, ${elsewhere}, 1, 'email', 'smtp', 1, 'sent', 1)`.execute(database.db),
      ).rejects.toThrow(/foreign key/);
    }
  });

  it('refuses rows for a challenge that does not exist, as the old foreign keys did', async () => {
    const missing = randomUUID();
    await expect(outbox(missing, 1)).rejects.toThrow(/no partition/);
    await expect(insertDeliveryAttempt(database.db, attempt(missing))).rejects.toThrow(/no partition/);
    expect(await recordAttemptAndMove(database.db, attempt(missing), 'sent')).toEqual({ outcome: 'challenge_missing' });
    await expect(
      sql`INSERT INTO delivery_attempts (challenge_id, challenge_created_at, send_number, channel, provider, attempt, outcome, duration_ms)
        VALUES (${missing}, ${new Date((await firstDay()) + HOUR)}, 1, 'email', 'smtp', 1, 'sent', 1)`.execute(
        database.db,
      ),
    ).rejects.toThrow(/foreign key/);
  });

  it('deletes the outbox rows and attempts with their challenge (ON DELETE CASCADE, within the partition)', async () => {
    const id = await challengeAt(new Date((await firstDay()) + 4 * HOUR));
    await outbox(id, 1);
    await insertDeliveryAttempt(database.db, attempt(id));
    await database.db.deleteFrom('otp_challenges').where('id', '=', id).execute();
    expect(await partitionOf('delivery_outbox', 'challenge_id', id)).toEqual([]);
    expect(await partitionOf('delivery_attempts', 'challenge_id', id)).toEqual([]);
  });

  it("refuses a second outbox row for a notice, and one keyed off its notification's created_at", async () => {
    const notificationId = await notification(database.db);
    const row = (jobId: string, owner: string) =>
      sql`INSERT INTO delivery_outbox (kind, notification_id, owner_created_at, channel, job_id, job_data)
        VALUES ('notice', ${notificationId}, ${sql.raw(owner)}, 'email', ${jobId}, '{}')`.execute(database.db);
    const own = `(SELECT created_at FROM notifications WHERE id = '${notificationId}')`;
    await row(`notice.${notificationId}`, own);
    await expect(row('notice.again', own)).rejects.toThrow(/duplicate key/);
    await expect(row('notice.elsewhere', `${own} + interval '1 day'`)).rejects.toThrow(/foreign key/);
  });

  it('refuses a row past the last partition: the maintenance must make it first (fail closed)', async () => {
    const partitions = await listHistoryPartitions(database.db, 'otp_challenges');
    const end = (partitions.at(-1) as { to: Date }).to;
    await expect(challengeAt(end)).rejects.toThrow(/no partition of relation "otp_challenges" found for row/);
    await expect(
      sql`INSERT INTO security_events (type, created_at) VALUES ('test.partition', ${end}::timestamptz + interval '400 days')`.execute(
        database.db,
      ),
    ).rejects.toThrow(/no partition of relation "security_events"/);
  });
});

function attempt(challengeId: string) {
  return {
    challenge_id: challengeId,
    send_number: 1,
    channel: 'email' as const,
    provider: 'smtp',
    attempt: 1,
    outcome: 'sent' as const,
    duration_ms: 1,
  };
}

async function notification(db: Kysely<Database>): Promise<string> {
  const user = await sql<{ id: string }>`INSERT INTO users (email, email_verified_at)
    VALUES (${`${randomUUID()}@example.com`}, now()) RETURNING id`.execute(db);
  const id = randomUUID();
  await sql`INSERT INTO notifications (id, user_id, template) VALUES (${id}, ${user.rows[0]?.id}, 'factor-locked')`.execute(
    db,
  );
  return id;
}
