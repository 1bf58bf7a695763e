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

/** A provider that never answers (the job stays active until its worker dies); `called` says when it got the job. */
function hangingSender(): { sender: DeliverySender; called: Promise<void> } {
  let markCalled: () => void = () => {};
  const called = new Promise<void>((resolve) => {
    markCalled = resolve;
  });
  const sender: DeliverySender = {
    provider: 'fake',
    send: () => {
      markCalled();
      return new Promise(() => {});
    },
  };
  return { sender, called };
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
    await startWorker(healthy);
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
  });
});
