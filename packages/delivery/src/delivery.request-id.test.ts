import { createDb, type Database, type Kysely } from '@otp/db';
import { uniqueQueuePrefix } from '@otp/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryError } from './delivery.error.ts';
import {
  type CapturedLogs,
  captureLogs,
  createDeliveryFixture,
  createRecordingSender,
  type DeliveryFixture,
  type DeliveryTestBed,
  type RecordingSender,
  type SeededChallenge,
  startDeliveryTestBed,
} from './testing/index.ts';

// The gateway's request id travels in the job (`requestId`); every worker log line about the
// challenge carries it next to the challenge id, so one search finds the request's whole story.
let bed: DeliveryTestBed;
let fixture: DeliveryFixture;
let sender: RecordingSender;
let logs: CapturedLogs;
// The Postgres-unreachable test's own queue and database handle (its worker is the bed's).
let brokenFixture: DeliveryFixture | undefined;
let brokenDb: Kysely<Database> | undefined;

beforeAll(async () => {
  logs = captureLogs('email-worker');
  bed = await startDeliveryTestBed({ provider: 'smtp', worker: { log: logs.log } });
  ({ fixture, sender } = bed);
});

afterAll(async () => {
  await bed?.close();
  await brokenFixture?.close();
  await brokenDb?.destroy();
});

let requests = 0;
/** Enqueues the challenge's first send as the gateway would for request `requestId`. */
async function enqueueFor(target: DeliveryFixture, challenge: SeededChallenge, attempts = 3) {
  requests += 1;
  const requestId = `req-${requests}-${challenge.id.slice(0, 8)}`;
  const job = await target.enqueue(challenge, { attempts, data: { ...target.jobData(challenge), requestId } });
  return { requestId, outcome: await target.finished(job) };
}

/** Waits (bounded) until the worker has logged every one of `messages` about the challenge. */
async function linesAbout(captured: CapturedLogs, challengeId: string, messages: string[]) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const lines = captured.mentioning(challengeId);
    const seen = new Set(lines.map((line) => line.msg));
    if (messages.every((message) => seen.has(message))) return lines;
    if (Date.now() > deadline) throw new Error(`missing log lines: ${messages.filter((m) => !seen.has(m)).join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function expectEveryLineTraced(captured: CapturedLogs, lines: Record<string, unknown>[], ids: Record<string, string>) {
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) expect(line).toMatchObject(ids);
  // And the other way round: no line names the request without naming the challenge.
  for (const line of captured.mentioning(ids.requestId as string)) expect(line.challengeId).toBe(ids.challengeId);
}

describe('request id in worker logs', () => {
  it('is on every line of a delivered message', async () => {
    const challenge = await fixture.seedChallenge({ to: 'trace@example.com' });
    const { requestId, outcome } = await enqueueFor(fixture, challenge);
    expect(outcome.state).toBe('completed');
    const lines = await linesAbout(logs, challenge.id, ['delivery sent']);
    expectEveryLineTraced(logs, lines, { challengeId: challenge.id, requestId });
    expect(lines.find((line) => line.msg === 'delivery sent')).toMatchObject({
      service: 'email-worker',
      sendNumber: 1,
    });
  });

  it('is on every line of a retried, then permanently failed message, the job-failed lines included', async () => {
    const challenge = await fixture.seedChallenge({ to: 'trace-fail@example.com' });
    sender.failNext(
      new DeliveryError('temporary', 'smtp_451'),
      Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) as unknown as DeliveryError,
      new DeliveryError('permanent', 'smtp_550'),
    );
    const { requestId, outcome } = await enqueueFor(fixture, challenge);
    expect(outcome).toEqual({ state: 'failed', reason: 'smtp_550' });
    const lines = await linesAbout(logs, challenge.id, [
      'delivery failed: will retry',
      'sender threw',
      'delivery failed permanently',
      'delivery job failed',
    ]);
    expectEveryLineTraced(logs, lines, { challengeId: challenge.id, requestId });
  });

  it('is on the lines of a skipped send', async () => {
    const challenge = await fixture.seedChallenge({ to: 'trace-skip@example.com', status: 'verified' });
    const { requestId } = await enqueueFor(fixture, challenge);
    expectEveryLineTraced(logs, await linesAbout(logs, challenge.id, ['delivery skipped']), {
      challengeId: challenge.id,
      requestId,
    });
  });

  it('is on the lines of an unexpected error around the send (Postgres unreachable)', async () => {
    // A worker of its own (own queue prefix) whose database cannot be reached.
    const prefix = uniqueQueuePrefix();
    const broken = await createDeliveryFixture({
      db: bed.database.db,
      redisUrl: bed.redisUrl,
      prefix,
      keyRing: bed.keyRing,
      channel: 'email',
    });
    brokenFixture = broken;
    brokenDb = createDb({ url: 'postgres://postgres@127.0.0.1:1/nothing', poolSize: 1, connectionTimeoutMs: 500 });
    const brokenLogs = captureLogs('email-worker');
    await bed.startWorker({ db: brokenDb, prefix, sender: createRecordingSender('smtp'), log: brokenLogs.log });
    const challenge = await broken.seedChallenge({ to: 'trace-db@example.com' });
    const { requestId, outcome } = await enqueueFor(broken, challenge, 1);
    expect(outcome).toEqual({ state: 'failed', reason: 'worker_error' });
    const lines = await linesAbout(brokenLogs, challenge.id, ['delivery processing error', 'delivery job failed']);
    expectEveryLineTraced(brokenLogs, lines, { challengeId: challenge.id, requestId });
  });
});
