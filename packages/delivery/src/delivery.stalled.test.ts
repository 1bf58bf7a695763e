import { findChallenge, listDeliveryAttempts } from '@otp/db';
import type { TestDatabase } from '@otp/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryWorker } from './delivery.worker.ts';
import type { DeliverySender } from './sender.port.ts';
import {
  captureLogs,
  createRecordingSender,
  type DeliveryFixture,
  type PreparedTestBed,
  prepareDeliveryTestBed,
} from './testing/index.ts';

// A job whose worker dies twice (maxStalledCount 1) is failed by BullMQ itself, outside our
// processor: the challenge must still end up showing a failed delivery, not "sending" for ever.
let bed: PreparedTestBed;
let database: TestDatabase;
let fixture: DeliveryFixture;
const logs = captureLogs('email-worker');

/**
 * A provider that does not answer (the job stays active until its worker dies) unless told to
 * `accept` the message; `called` says when it got the job.
 */
function hangingSender(): { sender: DeliverySender; called: Promise<void>; accept: () => void } {
  let markCalled: () => void = () => {};
  let accept: () => void = () => {};
  const called = new Promise<void>((resolve) => {
    markCalled = resolve;
  });
  const sender: DeliverySender = {
    provider: 'fake',
    send: () => {
      markCalled();
      return new Promise((resolve) => {
        accept = () => resolve({ providerMessageId: 'accepted-late' });
      });
    },
  };
  return { sender, called, accept: () => accept() };
}

function startWorker(sender: DeliverySender): Promise<DeliveryWorker> {
  return bed.startWorker({
    sender,
    log: logs.log,
    concurrency: 1,
    // Short on purpose: a dead worker's lock expires after 500 ms and is noticed within 100 ms.
    lockDurationMs: 500,
    stalledIntervalMs: 100,
    closeTimeoutMs: 100,
  });
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  bed = await prepareDeliveryTestBed();
  ({ database, fixture } = bed);
});

afterAll(async () => {
  await bed?.close();
});

describe('a job that stalls more than allowed', () => {
  it('is failed and recorded on the challenge', async () => {
    const challenge = await fixture.seedChallenge({ to: 'stalled@example.com' });
    const job = await fixture.enqueue(challenge, { attempts: 3 });

    // Two workers in turn take the job and die with it (close(true) abandons the lock, as a
    // crash would).
    for (let crash = 0; crash < 2; crash++) {
      const { sender, called } = hangingSender();
      const dying = await startWorker(sender);
      await called;
      await dying.worker.close(true);
    }
    // A healthy worker finds the second stall: BullMQ fails the job, our handler records it.
    const healthy = createRecordingSender();
    const healthyWorker = await startWorker(healthy);
    const state = await waitFor('the job to fail', async () => {
      const current = await fixture.queue.getJobState(job.id as string);
      return current === 'failed' ? current : undefined;
    });

    expect(state).toBe('failed');
    expect((await fixture.queue.getJob(job.id as string))?.failedReason).toBe('job stalled more than allowable limit');
    expect(healthy.calls).toBe(0);
    const recorded = await waitFor('the challenge to show the failure', async () => {
      const row = await findChallenge(database.db, challenge.id);
      return row?.delivery_status === 'failed' ? row : undefined;
    });
    expect(recorded).toMatchObject({ status: 'failed', delivery_last_error: 'stalled' });
    expect(await listDeliveryAttempts(database.db, challenge.id)).toMatchObject([
      { outcome: 'temporary_failure', error_code: 'stalled' },
    ]);
    // The stall warnings and the failure name the challenge and the request that asked for it.
    const lines = logs.mentioning(challenge.id);
    const stalls = lines.filter((line) => String(line.msg).startsWith('delivery job stalled'));
    expect(stalls.length).toBeGreaterThan(0);
    expect(lines.some((line) => line.msg === 'delivery job failed')).toBe(true);
    const { requestId } = fixture.jobData(challenge);
    for (const line of lines) expect(line).toMatchObject({ challengeId: challenge.id, requestId });
    await healthyWorker.close();
  });

  it('keeps the record of a send that went out before the job was failed as stalled', async () => {
    const challenge = await fixture.seedChallenge({ to: 'stalled-after-send@example.com' });
    const job = await fixture.enqueue(challenge, { attempts: 3 });
    const first = hangingSender();
    const crashing = await startWorker(first.sender);
    await first.called;
    await crashing.worker.close(true);
    // The second worker's provider accepts the message just as that worker dies: the send is
    // recorded, but the job never completes, so it stalls a second time and BullMQ fails it.
    const second = hangingSender();
    const dying = await startWorker(second.sender);
    await second.called;
    await dying.worker.close(true);
    second.accept();
    await waitFor('the send to be recorded', async () => {
      const row = await findChallenge(database.db, challenge.id);
      return row?.delivery_status === 'sent' ? row : undefined;
    });
    await startWorker(createRecordingSender());
    await waitFor('the stall to be recorded', async () => {
      const attempts = await listDeliveryAttempts(database.db, challenge.id);
      return attempts.some((attempt) => attempt.error_code === 'stalled') ? attempts : undefined;
    });

    expect(await fixture.queue.getJobState(job.id as string)).toBe('failed');
    // The code is in the user's hands: the challenge stays usable and says so.
    expect(await findChallenge(database.db, challenge.id)).toMatchObject({
      status: 'pending',
      delivery_status: 'sent',
      delivery_provider_message_id: 'accepted-late',
    });
  });
});
