import { randomUUID } from 'node:crypto';
import { enableWebhookEndpoint, insertEvents, listWebhookEndpointStates } from '@otp/db';
import { WEBHOOK_QUEUE, webhookEndpointId, webhookJobId } from '@otp/domain';
import { createLogger, createMetricsRegistry } from '@otp/runtime';
import {
  parseExposition,
  sampleValue,
  startWebhookReceiver,
  testRedisUrl,
  uniqueQueuePrefix,
  useTestDatabase,
  type WebhookReceiver,
} from '@otp/testkit';
import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseWebhookEndpoints } from './config.ts';
import { startWebhookWorker, type WebhookWorker } from './webhook.worker.ts';

// The webhook worker against real Postgres and Redis, delivering to receivers on loopback that
// check every signature with the standardwebhooks package, as an application's would.
const database = useTestDatabase();
const log = createLogger({ service: 'webhook-worker-test', level: 'silent' });
let all: WebhookReceiver;
let signIns: WebhookReceiver;
let worker: WebhookWorker | undefined;
let queue: Queue;
const prefix = uniqueQueuePrefix();
let registry = createMetricsRegistry('webhook-worker');

function start(endpoints: WebhookReceiver[], options: { retryDelaysMs?: number[]; events?: string[][] } = {}) {
  const config = parseWebhookEndpoints(
    JSON.stringify(
      endpoints.map((receiver, index) => ({
        url: receiver.url,
        secret: receiver.secret,
        events: options.events?.[index] ?? ['*'],
      })),
    ),
    false,
  );
  registry = createMetricsRegistry('webhook-worker');
  worker = startWebhookWorker({
    db: database.db,
    redisUrl: testRedisUrl(),
    prefix,
    log,
    endpoints: config,
    metricsRegistry: registry,
    concurrency: 5,
    timeoutMs: 2000,
    hostRateLimit: 1000,
    retryDelaysMs: options.retryDelaysMs ?? [50, 50],
    relayIntervalMs: 50,
    relayBatchSize: 100,
    stateRefreshMs: 100,
  });
  return worker;
}

async function emit(type: string, data: Record<string, unknown>): Promise<string> {
  const id = randomUUID();
  await insertEvents(database.db, [{ id, type, occurredAt: new Date(), data }]);
  return id;
}

async function finished(jobId: string, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await queue.getJobState(jobId);
    if (state === 'completed' || state === 'failed') return state;
    if (Date.now() > deadline) throw new Error(`job ${jobId} still ${state}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  all = await startWebhookReceiver({ path: '/all' });
  signIns = await startWebhookReceiver({ path: '/sign-ins' });
  queue = new Queue(WEBHOOK_QUEUE, { connection: { url: testRedisUrl() } as never, prefix });
});

afterEach(async () => {
  await worker?.close();
  worker = undefined;
  all.answerWith(200);
});

afterAll(async () => {
  await queue?.close();
  await all?.close();
  await signIns?.close();
});

describe('the webhook worker', () => {
  it('delivers each event, signed, to the endpoints that take its type, and marks it relayed', async () => {
    start([all, signIns], { events: [['*'], ['user.signed_in']] });
    const signedIn = await emit('user.signed_in', { userId: 'u-1', method: 'email', sessionId: 's-1' });
    const requested = await emit('challenge.requested', { challengeId: 'c-1', toMasked: 'a***@example.com' });

    const received = await all.waitFor((events) => events.length === 2);
    expect(received.every((event) => event.verified)).toBe(true);
    const first = received.find((event) => event.id === signedIn);
    expect(first).toMatchObject({ type: 'user.signed_in', data: { userId: 'u-1', method: 'email', sessionId: 's-1' } });
    expect(Date.parse(first?.eventTimestamp ?? '')).not.toBeNaN();
    expect(Object.keys(JSON.parse(first?.body ?? '{}'))).toEqual(['type', 'timestamp', 'data']);
    expect(first?.headers['content-type']).toBe('application/json');

    const onlySignIns = await signIns.waitFor((events) => events.length === 1);
    expect(onlySignIns[0]).toMatchObject({ id: signedIn, verified: true, type: 'user.signed_in' });
    // challenge.requested never went to the endpoint that asked for sign-ins only.
    await finished(webhookJobId(requested, webhookEndpointId(all.url)));
    expect(signIns.requests.map((request) => request.id)).toEqual([signedIn]);

    const rows = await database.db.selectFrom('event_outbox').select(['id', 'status']).execute();
    expect(rows.filter((row) => [signedIn, requested].includes(row.id)).map((row) => row.status)).toEqual([
      'dispatched',
      'dispatched',
    ]);
  });

  it('retries a failed delivery with the same webhook-id and a fresh signature', async () => {
    start([all]);
    all.answerWith(503);
    const id = await emit('user.created', { userId: 'u-2', method: 'password' });
    await all.waitFor(() => all.requests.filter((request) => request.id === id).length >= 1);
    all.answerWith(200);
    const jobId = webhookJobId(id, webhookEndpointId(all.url));
    expect(await finished(jobId)).toBe('completed');
    const attempts = all.requests.filter((request) => request.id === id);
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    expect(attempts.map((attempt) => attempt.status).at(-1)).toBe(200);
    expect(attempts.every((attempt) => attempt.verified && attempt.id === id)).toBe(true);
  });

  it('keeps a delivery whose retries ran out in the failed set (the dead letter), counted', async () => {
    start([all], { retryDelaysMs: [30, 30] });
    all.answerWith(500);
    const id = await emit('user.deleted', { userId: 'u-3', by: 'user' });
    const jobId = webhookJobId(id, webhookEndpointId(all.url));
    expect(await finished(jobId)).toBe('failed');
    const job = await queue.getJob(jobId);
    expect(job?.failedReason).toBe('http_500');
    expect(job?.attemptsMade).toBe(3);
    expect(all.requests.filter((request) => request.id === id)).toHaveLength(3);
    const metrics = parseExposition(await registry.metrics());
    const endpoint = webhookEndpointId(all.url);
    expect(
      sampleValue(metrics, 'otp_webhook_deliveries_total', { endpoint, outcome: 'dead_letter' }),
    ).toBeGreaterThanOrEqual(1);
  });

  it('disables an endpoint that answers 410 for every replica, until it is enabled again', async () => {
    start([all]);
    all.answerWith(410);
    const gone = await emit('password.changed', { userId: 'u-4', how: 'change' });
    const endpoint = webhookEndpointId(all.url);
    expect(await finished(webhookJobId(gone, endpoint))).toBe('failed');
    const states = await listWebhookEndpointStates(database.db);
    expect(states).toEqual([
      expect.objectContaining({ id: endpoint, origin: new URL(all.url).origin, disabled_reason: 'http_410' }),
    ]);
    expect(states[0]?.disabled_at).toBeInstanceOf(Date);
    const metrics = parseExposition(await registry.metrics());
    expect(sampleValue(metrics, 'otp_webhook_endpoint_disabled', { endpoint })).toBe(1);

    // A second replica, started afterwards, reads the state: nothing more reaches the endpoint.
    await worker?.close();
    start([all]);
    all.answerWith(200);
    const later = await emit('password.changed', { userId: 'u-4', how: 'reset' });
    const laterJob = webhookJobId(later, endpoint);
    expect(await finished(laterJob)).toBe('failed');
    expect((await queue.getJob(laterJob))?.failedReason).toBe('endpoint_disabled');
    expect(all.requests.some((request) => request.id === later)).toBe(false);

    // Enabled again (what `ops webhook-endpoint enable` does), the dead letter can be retried.
    await enableWebhookEndpoint(database.db, endpoint, 'test');
    await worker?.states.refresh();
    await (await queue.getJob(laterJob))?.retry();
    expect(await finished(laterJob)).toBe('completed');
    expect(all.events().some((event) => event.id === later)).toBe(true);
  });
});
