import { randomUUID } from 'node:crypto';
import {
  findChallenge,
  insertChallenge,
  listDeliveryAttempts,
  moveDelivery,
  type OtpChallenge,
  recordAttemptAndMove,
  sql,
  takeChallengeToSend,
} from '@otp/db';
import { sendRefusal } from '@otp/domain';
import { createTestDatabase, type TestDatabase } from '@otp/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { challengeRow } from './challenge-row.ts';

// moveDelivery is the one writer of a challenge's delivery status: its UPDATE enforces the
// domain's transition table, so these are the table's rules as Postgres applies them.
describe('moving a delivery', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });

  interface Seed {
    delivery?: OtpChallenge['delivery_status'];
    status?: OtpChallenge['status'];
    sendCount?: number;
    expiresInMs?: number;
    /** An exact expiry (microseconds kept by Postgres, milliseconds by a Date). */
    expiresAt?: Date;
    attempts?: number;
    messageId?: string;
  }

  async function challenge(seed: Seed = {}): Promise<string> {
    const row = challengeRow({
      recipient_masked: 'a***@example.com',
      status: seed.status ?? 'pending',
      attempt_count: seed.attempts ?? 0,
      send_count: seed.sendCount ?? 1,
      expires_at: seed.expiresAt ?? new Date(Date.now() + (seed.expiresInMs ?? 600_000)),
      delivery_status: seed.delivery ?? 'queued',
      delivery_provider_message_id: seed.messageId ?? null,
      delivery_updated_at: new Date(Date.now() - 60_000),
    });
    await insertChallenge(database.db, row);
    return row.id;
  }

  const read = async (id: string) => (await findChallenge(database.db, id)) as OtpChallenge;

  it('moves the latest send from a status the transition may leave, and counts the provider attempt', async () => {
    const id = await challenge({ delivery: 'sending' });
    expect(await moveDelivery(database.db, id, 1, 'sent', { providerMessageId: 'm-1', lastError: null })).toBe(true);
    expect(await read(id)).toMatchObject({ delivery_status: 'sent', delivery_provider_message_id: 'm-1' });
    expect((await read(id)).delivery_attempts).toBe(1);
    expect((await read(id)).delivery_updated_at.getTime()).toBeGreaterThan(Date.now() - 10_000);
  });

  it('leaves an older send, and a status the transition may not leave, as they are', async () => {
    const resent = await challenge({ delivery: 'sending', sendCount: 2 });
    expect(await moveDelivery(database.db, resent, 1, 'sent', { providerMessageId: 'old' })).toBe(false);
    const sent = await challenge({ delivery: 'sent' });
    expect(await moveDelivery(database.db, sent, 1, 'stalled', { lastError: 'stalled' })).toBe(false);
    expect(await moveDelivery(database.db, sent, 1, 'retry_scheduled', { lastError: 'smtp_451' })).toBe(false);
    expect(await read(sent)).toMatchObject({ status: 'pending', delivery_status: 'sent', delivery_last_error: null });
  });

  it('fails a pending challenge on a final failure, and only a pending one', async () => {
    const pending = await challenge({ delivery: 'sending' });
    expect(await moveDelivery(database.db, pending, 1, 'failed', { lastError: 'smtp_550' })).toBe(true);
    expect(await read(pending)).toMatchObject({ status: 'failed', delivery_status: 'failed' });
    const verified = await challenge({ delivery: 'sending', status: 'verified' });
    expect(await moveDelivery(database.db, verified, 1, 'stalled', { lastError: 'stalled' })).toBe(true);
    expect(await read(verified)).toMatchObject({ status: 'verified', delivery_status: 'failed' });
  });

  it('reopens a failed challenge that has not expired', async () => {
    const failed = await challenge({ delivery: 'failed', status: 'failed' });
    expect(await moveDelivery(database.db, failed, 1, 'reopened', { lastError: null })).toBe(true);
    expect(await read(failed)).toMatchObject({ status: 'pending', delivery_status: 'queued' });
    const expired = await challenge({ delivery: 'failed', status: 'failed', expiresInMs: -1000 });
    expect(await moveDelivery(database.db, expired, 1, 'reopened')).toBe(false);
    const locked = await challenge({ delivery: 'failed', status: 'locked' });
    expect(await moveDelivery(database.db, locked, 1, 'reopened')).toBe(false);
  });

  it('takes a provider report only about the recorded message, and never over delivered', async () => {
    const id = await challenge({ delivery: 'sent', messageId: 'SM-1' });
    expect(await moveDelivery(database.db, id, 1, 'undelivered', { aboutMessage: 'SM-other' })).toBe(false);
    expect(await moveDelivery(database.db, id, 1, 'delivered', { aboutMessage: 'SM-1' })).toBe(true);
    const late = { aboutMessage: 'SM-1', lastError: 'twilio_30003' } as const;
    expect(await moveDelivery(database.db, id, 1, 'undelivered', late)).toBe(false);
    expect(await read(id)).toMatchObject({ delivery_status: 'delivered', delivery_last_error: null });
  });

  // The worker's write-back: the attempt and the move in one statement, both or neither.
  const sentAttempt = (id: string) =>
    ({
      challenge_id: id,
      send_number: 1,
      channel: 'email',
      provider: 'smtp',
      attempt: 1,
      outcome: 'sent',
      error_code: null,
      error_message: null,
      provider_message_id: 'm-1',
      duration_ms: 12,
      locale: 'en',
    }) as const;

  it('records the attempt and moves the send in one statement, by the same rules as moveDelivery', async () => {
    const id = await challenge({ delivery: 'sending' });
    const moved = await recordAttemptAndMove(database.db, sentAttempt(id), 'sent', { providerMessageId: 'm-1' });
    expect(moved).toEqual({ outcome: 'recorded', moved: true });
    expect(await read(id)).toMatchObject({ delivery_status: 'sent', delivery_provider_message_id: 'm-1' });
    expect(await listDeliveryAttempts(database.db, id)).toMatchObject([
      { outcome: 'sent', provider_message_id: 'm-1' },
    ]);

    // A later send superseded this one: the attempt is recorded, the status stays the newer send's.
    const resent = await challenge({ delivery: 'queued', sendCount: 2 });
    expect(await recordAttemptAndMove(database.db, sentAttempt(resent), 'sent')).toEqual({
      outcome: 'recorded',
      moved: false,
    });
    expect(await read(resent)).toMatchObject({ delivery_status: 'queued' });
    expect(await listDeliveryAttempts(database.db, resent)).toHaveLength(1);
  });

  it('records nothing and says so when the challenge is gone', async () => {
    const id = randomUUID();
    expect(await recordAttemptAndMove(database.db, sentAttempt(id), 'sent')).toEqual({ outcome: 'challenge_missing' });
    expect(await listDeliveryAttempts(database.db, id)).toEqual([]);
  });

  // The worker's read before a send (takeChallengeToSend): with `take`, the send moves to
  // `sending` in the same statement only when the domain's sendRefusal allows the row returned.
  describe('taking a challenge to send', () => {
    const now = new Date();
    const cases: Array<[string, Seed, number]> = [
      ['queued, pending', {}, 1],
      ['sending again (a retry)', { delivery: 'sending' }, 1],
      ['delivery failed, challenge pending', { delivery: 'failed' }, 1],
      ['sent already', { delivery: 'sent' }, 1],
      ['delivered already', { delivery: 'delivered' }, 1],
      ['undelivered', { delivery: 'undelivered' }, 1],
      ['verified', { status: 'verified' }, 1],
      ['locked', { status: 'locked' }, 1],
      ['failed', { status: 'failed', delivery: 'failed' }, 1],
      ['attempts used up', { attempts: 5 }, 1],
      ['one attempt left', { attempts: 4 }, 1],
      ['expired', { expiresInMs: -1000 }, 1],
      ['expiring exactly now', { expiresAt: now }, 1],
      ['superseded by a resend', { sendCount: 2 }, 1],
      ['a send not made', { sendCount: 1 }, 2],
      ['far from expiry', { expiresAt: new Date(now.getTime() + 60_000) }, 1],
    ];

    it.each(cases)('%s: taken exactly when sendRefusal allows it', async (_name, seed, sendNumber) => {
      const id = await challenge(seed);
      const before = await read(id);
      const { challenge: row, taken } = await takeChallengeToSend(database.db, id, sendNumber, { now, take: true });
      const allowed = sendRefusal(before, sendNumber, now) === undefined;
      expect(taken).toBe(allowed);
      expect(sendRefusal(row, sendNumber, now)).toBe(sendRefusal(before, sendNumber, now));
      const after = await read(id);
      expect(after.delivery_status).toBe(taken ? 'sending' : before.delivery_status);
      expect(row).toMatchObject({
        id,
        status: before.status,
        send_count: before.send_count,
        delivery_status: after.delivery_status,
      });
      // The move counts no provider attempt and clears nothing.
      expect(after.delivery_attempts).toBe(before.delivery_attempts);
    });

    it('never takes a row sendRefusal refuses at the edge of expiry (microseconds Postgres keeps)', async () => {
      for (const offsetUs of [-1500, -500, 0, 1, 400, 999, 1000, 1001, 1999, 2500]) {
        const id = await challenge();
        await database.db
          .updateTable('otp_challenges')
          .set({ expires_at: sql<Date>`${now}::timestamptz + ${offsetUs} * interval '1 microsecond'` })
          .where('id', '=', id)
          .execute();
        const { challenge: row, taken } = await takeChallengeToSend(database.db, id, 1, { now, take: true });
        if (taken) expect(sendRefusal(row, 1, now)).toBeUndefined();
        if (offsetUs <= 0) expect(taken).toBe(false);
        if (offsetUs >= 2000) expect(taken).toBe(true);
      }
    });

    it('without take, only reads; a missing challenge is undefined and nothing is taken', async () => {
      const id = await challenge();
      expect(await takeChallengeToSend(database.db, id, 1, { now, take: false })).toMatchObject({
        challenge: { id, delivery_status: 'queued' },
        taken: false,
      });
      expect((await read(id)).delivery_status).toBe('queued');
      expect(await takeChallengeToSend(database.db, randomUUID(), 1, { now, take: true })).toEqual({
        challenge: undefined,
        taken: false,
      });
    });
  });
});
