import { randomUUID } from 'node:crypto';
import {
  consumeChallenge,
  countVerificationAttempt,
  findChallenge,
  insertChallenge,
  listDeliveryAttempts,
  moveDelivery,
  newChallengeId,
  recordAttemptAndMove,
  takeChallengeToSend,
} from '@otp/db';
import { createTestDatabase, type TestDatabase } from '@otp/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { challengeRow } from './challenge-row.ts';

// Challenge ids are UUIDv7 now; the previous release's were version 4, and its challenges may still
// be in flight when the new one starts. Both kinds go through every statement of a code's life.
describe('looking a challenge up by its id', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });

  const limits = () => ({ maxFailures: 10, failureWindowEndsAt: new Date(Date.now() + 600_000), at: new Date() });

  it.each([
    ['an id that says when it was made', (at: Date) => newChallengeId(at)],
    ['an id written before ids carried their time (version 4)', () => randomUUID()],
  ])('%s: found, delivered, counted and consumed', async (_kind, makeId) => {
    const at = new Date();
    const row = challengeRow({ id: makeId(at), created_at: at });
    await insertChallenge(database.db, row);
    const { db } = database;

    expect(await findChallenge(db, row.id)).toMatchObject({ id: row.id });
    const take = await takeChallengeToSend(db, row.id, 1, { now: new Date(), take: true });
    expect(take).toMatchObject({ taken: true, challenge: { id: row.id } });
    const sent = await recordAttemptAndMove(
      db,
      {
        challenge_id: row.id,
        send_number: 1,
        channel: 'email',
        provider: 'smtp',
        attempt: 1,
        outcome: 'sent',
        error_code: null,
        error_message: null,
        provider_message_id: 'm-1',
        duration_ms: 1,
        challenge_created_at: take.challenge?.created_at_key,
      },
      'sent',
      { providerMessageId: 'm-1', lastError: null },
    );
    expect(sent).toEqual({ outcome: 'recorded', moved: true });
    expect(await listDeliveryAttempts(db, row.id)).toMatchObject([{ outcome: 'sent' }]);
    expect(await moveDelivery(db, row.id, 1, 'delivered', { aboutMessage: 'm-1' })).toBe(true);

    const counted = await countVerificationAttempt(db, row.id, limits(), ['login']);
    expect(counted).toMatchObject({ outcome: 'counted', challenge: { id: row.id, attempt_count: 1 } });
    expect(await consumeChallenge(db, row.id, row.recipient_hash as Buffer)).toBe(true);
    expect(await findChallenge(db, row.id)).toMatchObject({ status: 'verified', delivery_status: 'delivered' });
  });
});
