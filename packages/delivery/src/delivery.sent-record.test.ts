import { findChallenge, listDeliveryAttempts, sql } from '@otp/db';
import { parseKeyRing } from '@otp/domain';
import { createTestDatabase, type TestDatabase, testKeyRing, testRedisUrl, uniqueQueuePrefix } from '@otp/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryWorker } from './delivery.worker.ts';
import {
  createDeliveryFixture,
  createRecordingSender,
  type DeliveryFixture,
  type RecordingSender,
  startTestDeliveryWorker,
} from './testing/index.ts';

// The record of an accepted send is the attempt row and the challenge's status together: a
// worker that dies between two separate writes leaves "sent" in one and "sending" in the other,
// and the worker that takes the job again sends the message a second time.
const keyRing = parseKeyRing(testKeyRing());
let database: TestDatabase;
let fixture: DeliveryFixture;
let sender: RecordingSender;
let worker: DeliveryWorker;

beforeAll(async () => {
  database = await createTestDatabase();
  const prefix = uniqueQueuePrefix();
  fixture = await createDeliveryFixture({
    db: database.db,
    redisUrl: testRedisUrl(),
    prefix,
    keyRing,
    channel: 'email',
  });
  sender = createRecordingSender();
  worker = await startTestDeliveryWorker({ db: database.db, redisUrl: testRedisUrl(), prefix, keyRing, sender });
  // The first write of a "sent" status fails (after the attempt row's insert, in the same
  // transaction now); a sequence counts across transactions, so only the first one fails.
  await sql`CREATE SEQUENCE sent_status_writes`.execute(database.db);
  await sql`
    CREATE FUNCTION fail_first_sent_status() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.delivery_status = 'sent' THEN
        IF nextval('sent_status_writes') = 1 THEN
          RAISE EXCEPTION 'injected failure of the status write';
        END IF;
      END IF;
      RETURN NEW;
    END $$`.execute(database.db);
  await sql`
    CREATE TRIGGER fail_first_sent_status BEFORE UPDATE ON otp_challenges
    FOR EACH ROW EXECUTE FUNCTION fail_first_sent_status()`.execute(database.db);
});

afterAll(async () => {
  await worker?.close();
  await fixture?.close();
  await database?.drop();
});

describe('recording an accepted send', () => {
  it('writes the attempt and the status together: a failed write leaves neither, its retry both, once', async () => {
    const challenge = await fixture.seedChallenge({ to: 'sent-record@example.com' });
    const outcome = await fixture.finished(await fixture.enqueue(challenge, { attempts: 3 }));

    expect(outcome.state).toBe('completed');
    expect(sender.sent).toHaveLength(1);
    expect(await findChallenge(database.db, challenge.id)).toMatchObject({ delivery_status: 'sent' });
    const attempts = await listDeliveryAttempts(database.db, challenge.id);
    expect(attempts.map((attempt) => attempt.outcome)).toEqual(['sent']);
  });
});
