import { randomUUID } from 'node:crypto';
import { sql } from '@otp/db';
import { useTestDatabase } from '@otp/testkit';
import { describe, expect, it } from 'vitest';

// The outbox carries code sends and security notices; its CHECK holds each row to its kind's ids,
// so a reader of one kind never meets a row shaped like the other.
describe('delivery_outbox kinds and notifications', () => {
  const database = useTestDatabase();

  async function seed(): Promise<{ userId: string; notificationId: string; challengeId: string }> {
    const db = database.db;
    const user = await sql<{ id: string }>`INSERT INTO users (email, email_verified_at)
      VALUES (${`${randomUUID()}@example.com`}, now()) RETURNING id`.execute(db);
    const userId = user.rows[0]?.id as string;
    const notificationId = randomUUID();
    await sql`INSERT INTO notifications (id, user_id, template) VALUES (${notificationId}, ${userId}, 'factor-locked')`.execute(
      db,
    );
    const challengeId = randomUUID();
    await sql`INSERT INTO otp_challenges (id, channel, purpose, recipient_hash, recipient_sealed, recipient_masked,
      locale, code_hashes, status, send_count, attempt_count, max_attempts, max_sends, expires_at, resend_available_at,
      delivery_status, delivery_updated_at)
      VALUES (${challengeId}, 'email', 'login', ${Buffer.from(challengeId)}, 's', 'a***@example.com', 'en', '{}',
      'pending', 1, 0, 5, 5, now() + interval '10 minutes', now(), 'queued', now())`.execute(db);
    return { userId, notificationId, challengeId };
  }

  const insert = (kind: string, challengeId: string | null, sendNumber: number | null, notificationId: string | null) =>
    sql`INSERT INTO delivery_outbox (kind, challenge_id, send_number, notification_id, channel, job_id, job_data,
        owner_created_at)
      VALUES (${kind}, ${challengeId}, ${sendNumber}, ${notificationId}, 'email', ${randomUUID()}, '{}',
        coalesce((SELECT created_at FROM otp_challenges WHERE id = ${challengeId}),
          (SELECT created_at FROM notifications WHERE id = ${notificationId}), now()))`.execute(database.db);

  it('takes a code row with its send and a notice row with its notification, and nothing mixed', async () => {
    const { notificationId, challengeId } = await seed();
    await insert('code', challengeId, 1, null);
    await insert('notice', null, null, notificationId);
    // A code row that does not name its kind: it defaults to code.
    await sql`INSERT INTO delivery_outbox (challenge_id, send_number, channel, job_id, job_data, owner_created_at)
      VALUES (${challengeId}, 2, 'email', ${randomUUID()}, '{}',
        (SELECT created_at FROM otp_challenges WHERE id = ${challengeId}))`.execute(database.db);

    for (const refused of [
      () => insert('code', null, null, notificationId),
      () => insert('code', challengeId, 3, notificationId),
      () => insert('code', challengeId, null, null),
      () => insert('notice', null, null, null),
      () => insert('notice', challengeId, 4, notificationId),
      () => insert('letter', challengeId, 5, null),
    ]) {
      await expect(refused()).rejects.toThrow(/check constraint/);
    }
  });

  it("keeps an account's notices, without its id, when the account is deleted: its last notice still goes out", async () => {
    const { userId, notificationId } = await seed();
    await insert('notice', null, null, notificationId);
    await sql`DELETE FROM users WHERE id = ${userId}`.execute(database.db);
    const left = await sql<{ user_id: string | null; outbox: number }>`SELECT n.user_id,
      (SELECT count(*) FROM delivery_outbox WHERE notification_id = n.id)::int AS outbox
      FROM notifications n WHERE n.id = ${notificationId}`.execute(database.db);
    expect(left.rows).toEqual([{ user_id: null, outbox: 1 }]);
  });
});
