import { testRedisUrl, uniqueQueuePrefix } from '@otp/testkit';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPERATOR, useTestDashboard } from './testing/index.ts';

// The `webhooks` queue on the board: jobs shaped as the webhook worker's relay makes them (one
// event for one endpoint, job id `<eventId>.<endpointId>`), delivered, failed for good (the dead
// letter) and waiting. The board shows their data in full (ids and masked addresses only), the
// endpoint's status, the stable failure code, and lets an operator retry the dead letter.
const prefix = uniqueQueuePrefix();
const ENDPOINT = 'ep_Xk3v9QpL2mNb7RtY';
const event = (eventId: string) => ({
  v: 1,
  eventId,
  endpointId: ENDPOINT,
  type: 'challenge.requested',
  occurredAt: '2026-12-09T10:00:00.000Z',
  data: {
    userId: '0b6c4c8e-7d4a-4f4f-9a55-2f2a5d1f3c11',
    challengeId: '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
    channel: 'email',
    purpose: 'login',
    toMasked: 'a***@example.com',
  },
});
const DELIVERED = `5f0c1b8e-2d3a-4c5b-8e7f-9a0b1c2d3e41.${ENDPOINT}`;
const DEAD = `5f0c1b8e-2d3a-4c5b-8e7f-9a0b1c2d3e42.${ENDPOINT}`;
const WAITING = `5f0c1b8e-2d3a-4c5b-8e7f-9a0b1c2d3e43.${ENDPOINT}`;
let connection: Redis;
let queue: Queue;

beforeAll(async () => {
  connection = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
  queue = new Queue('webhooks', { connection, prefix });
  await queue.add('deliver', event(DELIVERED.split('.')[0] as string), { jobId: DELIVERED, attempts: 1 });
  await queue.add('deliver', event(DEAD.split('.')[0] as string), { jobId: DEAD, attempts: 1 });
  const worker = new Worker(
    'webhooks',
    async (job) => {
      if (job.id === DEAD) throw new Error('http_500');
      return { status: 204 };
    },
    { connection: new Redis(testRedisUrl(), { maxRetriesPerRequest: null }), prefix, concurrency: 1 },
  );
  let finished = 0;
  await new Promise<void>((resolve) => {
    const done = () => {
      finished += 1;
      if (finished === 2) resolve();
    };
    worker.on('completed', done);
    worker.on('failed', done);
  });
  await worker.close();
  await worker.disconnect();
  await queue.add('deliver', event(WAITING.split('.')[0] as string), { jobId: WAITING });
});

afterAll(async () => {
  await queue?.obliterate({ force: true });
  await queue?.close();
  connection?.disconnect();
});

const dashboard = useTestDashboard({ prefix });

async function get(url: string): Promise<Record<string, unknown>> {
  const response = await dashboard.app.inject({ method: 'GET', url, headers: OPERATOR });
  expect(response.statusCode, url).toBe(200);
  return response.json();
}

describe('the webhooks queue on the dashboard', () => {
  it('is listed beside the delivery queues, with its description', async () => {
    const { queues } = (await get('/api/queues?activeQueue=webhooks&status=latest&page=1&jobsPerPage=50')) as {
      queues: Array<{ name: string; description?: string; counts: Record<string, number> }>;
    };
    expect(queues.map((listed) => listed.name).sort()).toEqual(['email', 'sms', 'webhooks']);
    const webhooks = queues.find((listed) => listed.name === 'webhooks');
    expect(webhooks?.description).toBe(
      'One job per event per endpoint (webhook-worker); failed = dead letter after 24 h of retries',
    );
    expect(webhooks?.counts).toMatchObject({ completed: 1, failed: 1, waiting: 1 });
  });

  it("shows a job's data in full, the endpoint's status and the dead letter's failure code", async () => {
    const delivered = (await get(`/api/queues/webhooks/${DELIVERED}`)).job as Record<string, unknown>;
    expect(delivered.data).toEqual(event(DELIVERED.split('.')[0] as string));
    expect(delivered.returnValue).toEqual({ status: 204 });
    const dead = (await get(`/api/queues/webhooks/${DEAD}`)).job as Record<string, unknown>;
    expect(dead.failedReason).toBe('http_500');
    expect(dead.data).toEqual(event(DEAD.split('.')[0] as string));
  });

  it('retries the dead letter', async () => {
    const retried = await dashboard.app.inject({
      method: 'PUT',
      url: `/api/queues/webhooks/${DEAD}/retry`,
      headers: OPERATOR,
    });
    expect(retried.statusCode).toBeLessThan(300);
    expect(await queue.getJobState(DEAD)).toBe('waiting');
  });
});
