import { findChallenge, listDeliveryAttempts, sql } from '@otp/db';
import type { TestDatabase } from '@otp/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DeliveryFixture,
  type DeliveryTestBed,
  type RecordingSender,
  startDeliveryTestBed,
} from './testing/index.ts';

// The record of an accepted send is the attempt row and the challenge's status together: a
// worker that dies between two separate writes leaves "sent" in one and "sending" in the other,
// and the worker that takes the job again sends the message a second time.
let bed: DeliveryTestBed;
let database: TestDatabase;
let fixture: DeliveryFixture;
let sender: RecordingSender;

beforeAll(async () => {
  bed = await startDeliveryTestBed();
  ({ database, fixture, sender } = bed);
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
  await bed?.close();
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
