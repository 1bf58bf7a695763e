import { findChallenge, listDeliveryAttempts } from '@otp/db';
import type { TestDatabase } from '@otp/testkit';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { DeliveryWorkerDeps } from './delivery.worker.ts';
import type { DeliverySender } from './sender.port.ts';
import {
  createRecordingSender,
  type DeliveryFixture,
  type PreparedTestBed,
  prepareDeliveryTestBed,
} from './testing/index.ts';

let bed: PreparedTestBed;
let database: TestDatabase;
let fixture: DeliveryFixture;

beforeAll(async () => {
  bed = await prepareDeliveryTestBed();
  ({ database, fixture } = bed);
});

afterAll(async () => {
  await bed?.close();
});

/** A sender that holds every message until `release()`: a slow provider. */
function gatedSender(): DeliverySender & { started: number; release(): void } {
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const sender = {
    provider: 'gated',
    started: 0,
    release: () => release(),
    async send() {
      sender.started += 1;
      await gate;
      return { providerMessageId: 'gated-1' };
    },
  };
  return sender;
}

function startWorker(sender: DeliverySender, overrides: Partial<DeliveryWorkerDeps> = {}) {
  return bed.startWorker({
    sender,
    concurrency: 1,
    lockDurationMs: 1000,
    stalledIntervalMs: 200,
    closeTimeoutMs: 10_000,
    ...overrides,
  });
}

describe('closing a delivery worker', () => {
  it('lets the in-flight job finish before close() resolves', async () => {
    const sender = gatedSender();
    const worker = await startWorker(sender);
    const challenge = await fixture.seedChallenge({ to: 'slow@example.com' });
    const job = await fixture.enqueue(challenge);
    await vi.waitFor(() => expect(sender.started).toBe(1), { timeout: 10_000 });

    const closed = worker.close();
    sender.release();
    await closed;

    expect(await fixture.queue.getJobState(job.id as string)).toBe('completed');
    expect(await findChallenge(database.db, challenge.id)).toMatchObject({ delivery_status: 'sent' });
  });

  it('force-closes after its deadline, and the job is handed back to another worker', async () => {
    const stuck = gatedSender();
    const first = await startWorker(stuck, { closeTimeoutMs: 100 });
    const challenge = await fixture.seedChallenge({ to: 'stuck@example.com' });
    const job = await fixture.enqueue(challenge);
    await vi.waitFor(() => expect(stuck.started).toBe(1), { timeout: 10_000 });

    await first.close();
    expect(await fixture.queue.getJobState(job.id as string)).toBe('active');

    // The lock is no longer renewed: another worker's stall check moves the job back to wait.
    const healthy = createRecordingSender();
    const second = await startWorker(healthy);
    try {
      const outcome = await fixture.finished(job);
      expect(outcome.state).toBe('completed');
      expect(healthy.sent.map((message) => message.challengeId)).toEqual([challenge.id]);
      expect((await listDeliveryAttempts(database.db, challenge.id)).map((row) => row.outcome)).toEqual(['sent']);
    } finally {
      await second.close();
    }
  });
});
