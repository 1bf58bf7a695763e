import { findChallenge, listDeliveryAttempts } from '@otp/db';
import { parseKeyRing } from '@otp/domain';
import { createLogger } from '@otp/runtime';
import { createTestDatabase, type TestDatabase, testKeyRing, testRedisUrl, uniqueQueuePrefix } from '@otp/testkit';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type DeliveryWorkerDeps, startDeliveryWorker } from './delivery.worker.ts';
import type { DeliverySender } from './sender.port.ts';
import { createDeliveryFixture, createRecordingSender, type DeliveryFixture } from './testing/index.ts';

const keyRing = parseKeyRing(testKeyRing());
const prefix = uniqueQueuePrefix();
let database: TestDatabase;
let fixture: DeliveryFixture;

beforeAll(async () => {
  database = await createTestDatabase();
  fixture = await createDeliveryFixture({
    db: database.db,
    redisUrl: testRedisUrl(),
    prefix,
    keyRing,
    channel: 'email',
  });
});

afterAll(async () => {
  await fixture?.close();
  await database?.drop();
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
  return startDeliveryWorker({
    channel: 'email',
    db: database.db,
    redisUrl: testRedisUrl(),
    prefix,
    keyRing,
    sender,
    render: ({ code }) => ({ subject: 'Code', text: code }),
    log: createLogger({ service: 'shutdown-test', level: 'silent' }),
    concurrency: 1,
    limiter: { max: 100, duration: 1000 },
    lockDurationMs: 1000,
    stalledIntervalMs: 200,
    closeTimeoutMs: 10_000,
    ...overrides,
  });
}

describe('closing a delivery worker', () => {
  it('lets the in-flight job finish before close() resolves', async () => {
    const sender = gatedSender();
    const worker = startWorker(sender);
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
    const first = startWorker(stuck, { closeTimeoutMs: 100 });
    const challenge = await fixture.seedChallenge({ to: 'stuck@example.com' });
    const job = await fixture.enqueue(challenge);
    await vi.waitFor(() => expect(stuck.started).toBe(1), { timeout: 10_000 });

    await first.close();
    expect(await fixture.queue.getJobState(job.id as string)).toBe('active');

    // The lock is no longer renewed: another worker's stall check moves the job back to wait.
    const healthy = createRecordingSender();
    const second = startWorker(healthy);
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
