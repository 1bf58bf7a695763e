import { testRedisUrl, uniqueQueuePrefix } from '@otp/testkit';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HIDDEN, SEALED } from './job-view.ts';
import { OPERATOR, useTestDashboard } from './testing/index.ts';

// The workers never put an address or a code in clear into Redis; this file shows the dashboard
// would not display one even if a buggy or foreign producer did: in job data, return values,
// failed reasons, stack traces or job logs.
const ADDRESS = 'victim.person@example.org';
const PHONE = '+14155550199';
const CODE = '8205517734';
const prefix = uniqueQueuePrefix();
let connection: Redis;
let queue: Queue;
const ids: string[] = [];

beforeAll(async () => {
  connection = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
  queue = new Queue('email', { connection, prefix });
  const leaky = {
    v: 1,
    challengeId: '0b6c4c8e-7d4a-4f4f-9a55-2f2a5d1f3c11',
    channel: 'email',
    template: 'otp-code',
    toMasked: ADDRESS,
    to: ADDRESS,
    code: CODE,
    phone: PHONE,
    requestId: `${ADDRESS}`,
    envelope: 'v1.key.Zm9vYmFy',
  };
  // One job failed with text that names the recipient, one completed returning it, both with logs.
  const failing = await queue.add('send-code', leaky, { jobId: 'leaky.1', attempts: 1 });
  const completing = await queue.add('send-code', leaky, { jobId: 'leaky.2', attempts: 1 });
  ids.push(String(failing.id), String(completing.id));
  const worker = new Worker(
    'email',
    async (job) => {
      await job.log(`sending ${CODE} to ${ADDRESS} and ${PHONE}`);
      if (job.id === 'leaky.1') throw new Error(`550 5.1.1 <${ADDRESS}>: rejected, code ${CODE}`);
      return { to: ADDRESS, code: CODE };
    },
    { connection: new Redis(testRedisUrl(), { maxRetriesPerRequest: null }), prefix, concurrency: 1 },
  );
  const finished = new Promise<void>((resolve) => {
    let count = 0;
    const done = () => {
      count += 1;
      if (count === 2) resolve();
    };
    worker.on('completed', done);
    worker.on('failed', done);
  });
  await finished;
  await worker.close();
  await worker.disconnect();
  // A version 2 account-exists job (left waiting), leaking the same way.
  const accountExists = { ...leaky, v: 2, template: 'account-exists', purpose: 'verify_email' };
  ids.push(String((await queue.add('send-code', accountExists, { jobId: 'leaky.3' })).id));
});

afterAll(async () => {
  await queue?.obliterate({ force: true });
  await queue?.close();
  connection?.disconnect();
});

const dashboard = useTestDashboard({ prefix });

async function body(url: string): Promise<string> {
  const response = await dashboard.app.inject({ method: 'GET', url, headers: OPERATOR });
  expect(response.statusCode, url).toBe(200);
  return response.body;
}

describe('what the dashboard shows of a job with secrets in clear', () => {
  it('shows known clear fields, the envelope as sealed, and names the other fields without their values', async () => {
    const { job } = JSON.parse(await body('/api/queues/email/leaky.2')) as { job: Record<string, unknown> };
    expect(job.data).toEqual({
      v: 1,
      challengeId: '0b6c4c8e-7d4a-4f4f-9a55-2f2a5d1f3c11',
      channel: 'email',
      template: 'otp-code',
      toMasked: HIDDEN,
      envelope: SEALED,
      hiddenFields: ['to', 'code', 'phone', 'requestId'],
    });
    expect(job.returnValue).toBe(HIDDEN);
  });

  it('shows the version and template of a version 2 account-exists job, and nothing it leaks', async () => {
    const { job } = JSON.parse(await body('/api/queues/email/leaky.3')) as { job: Record<string, unknown> };
    expect(job.data).toEqual({
      v: 2,
      challengeId: '0b6c4c8e-7d4a-4f4f-9a55-2f2a5d1f3c11',
      channel: 'email',
      template: 'account-exists',
      purpose: 'verify_email',
      toMasked: HIDDEN,
      envelope: SEALED,
      hiddenFields: ['to', 'code', 'phone', 'requestId'],
    });
  });

  it('blanks the address and the code in failed reasons, stack traces and job logs', async () => {
    const { job } = JSON.parse(await body('/api/queues/email/leaky.1')) as {
      job: { failedReason: string; stacktrace: string[] };
    };
    expect(job.failedReason).toBe('550 5.1.1 <[address]>: rejected, code [number]');
    expect(job.stacktrace.length).toBeGreaterThan(0);
    expect(JSON.parse(await body('/api/queues/email/leaky.1/logs'))).toEqual([
      'sending [number] to [address] and [number]',
    ]);
  });

  it('shows none of them anywhere in its answers', async () => {
    const answers = [
      await body('/api/queues?activeQueue=email&status=latest&page=1&jobsPerPage=50'),
      await body('/api/queues?activeQueue=email&status=failed&page=1&jobsPerPage=50'),
      await body('/api/queues?activeQueue=email&status=completed&page=1&jobsPerPage=50'),
      await body('/api/queues?activeQueue=email&status=waiting&page=1&jobsPerPage=50'),
      ...(await Promise.all(ids.map((id) => body(`/api/queues/email/${id}`)))),
      ...(await Promise.all(ids.map((id) => body(`/api/queues/email/${id}/logs`)))),
    ].join('\n');
    for (const secret of [ADDRESS, CODE, PHONE, PHONE.slice(1)]) expect(answers).not.toContain(secret);
  });
});
