import { listDeliveryAttempts } from '@otp/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliverySender } from './sender.port.ts';
import { captureLogs, type PreparedTestBed, prepareDeliveryTestBed } from './testing/index.ts';

// An account's deletion removes its challenges and the jobs it can; a job a worker is sending at
// that moment stays. The message goes out, and the job must then complete at once: nothing to
// record the send on, and no write-back retried against a foreign key until its timeout.
let bed: PreparedTestBed;
const logs = captureLogs('email-worker');
const sent: string[] = [];

/** Accepts the message while the account is deleted, as a deletion racing the send would. */
const senderDuringDeletion: DeliverySender = {
  provider: 'fake',
  async send(message) {
    await bed.database.db
      .deleteFrom('otp_challenges')
      .where('id', '=', message.challengeId as string)
      .execute();
    sent.push(message.challengeId as string);
    return { providerMessageId: `fake-${sent.length}` };
  },
};

beforeAll(async () => {
  bed = await prepareDeliveryTestBed();
  // A write-back that kept retrying would outlast the test's wait for the job.
  await bed.startWorker({ sender: senderDuringDeletion, log: logs.log, writeBackTimeoutMs: 60_000 });
});

afterAll(async () => {
  await bed?.close();
});

describe('a challenge deleted while its message is being sent', () => {
  it('completes the job once, records nothing and retries nothing', async () => {
    const challenge = await bed.fixture.seedChallenge({ to: 'deleted-meanwhile@example.com' });
    const outcome = await bed.fixture.finished(await bed.fixture.enqueue(challenge, { attempts: 3 }), 5_000);

    expect(outcome).toEqual({ state: 'completed', value: { providerMessageId: 'fake-1' } });
    expect(sent).toEqual([challenge.id]);
    expect(await listDeliveryAttempts(bed.database.db, challenge.id)).toEqual([]);
    const messages = logs.records.map((record) => record.msg);
    expect(messages).toContain('challenge deleted during the send: nothing recorded');
    expect(messages).not.toContain('recording the sent message failed: retrying');
  });
});
